"""English left on a Chinese page: the visible text's Latin words that are not a name, code, unit or number.

The rule (tests/test_i18n.py renders every page in Chinese and applies it):
- Only text a reader sees is read: element text without <script> and <style>, and of the attributes only
  the two shown on the screen, an input's placeholder and a button input's caption. Text inside
  an element marked as not for translation (`translate="no"`, e.g. a raw audit detail) or as English
  (`lang="en"`, e.g. a literature reference) is left out: the template says, in standard HTML, that it is
  meant to stay as it is, which is a decision and not a forgotten string.
- Whatever matches ALLOWED_PATTERNS is taken out first: the invented names the test factories give
  people ("Test patient 7"), brand names (Stripe, WeChat Pay, Alipay …), e-mail and web addresses, IANA
  time-zone ids ("America/New_York"), file paths, and codes with a digit in them (lot numbers, ATC and
  ICD-10 codes, licence numbers, "FZ-LOT-1", amounts).
- `names` (passed in by the caller) are the proper names of the data shown: drugs' INNs and brands.
- A "Latin word" is then two or more Latin letters with at least one lower-case letter. Words in capitals
  only are codes or abbreviations (QD, BID, ATC, DTP, ID, SMS) and pass; so do single letters ("5h 03m").
- Every Latin word not in ALLOWED_WORDS (units, and the few Latin words Chinese text uses itself) is
  English left untranslated; consecutive ones are reported together as one run, with the page it is on.
A single word counts, not only a run of two: an untranslated button reads "Cancel", one word.
"""

import re
from html.parser import HTMLParser

# Names, codes and addresses, taken out of the text before its words are read.
ALLOWED_PATTERNS = (
    # the invented names the factories give people
    re.compile(r"(?<![A-Za-z])Test (?:patient|doctor|pharmacist|courier|admin|Store) \d+(?!\d)"),
    re.compile(r"\b(?:WeChat Pay|Alipay|Stripe|UnionPay|Visa|Mastercard)\b"),  # brands
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # e-mail addresses
    re.compile(r"https?://\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|cn|org|net|png|pdf|jpe?g|csv)\b"),
    re.compile(r"\b(?:Africa|America|Antarctica|Arctic|Asia|Atlantic|Australia|Europe|Indian|Pacific)"
               r"(?:/[A-Za-z_-]+)+"),  # IANA time-zone ids
    re.compile(r"\b[a-z_]+(?:/[a-z_.]+)+"),  # file paths
    re.compile(r"\b[\w./-]*\d[\w./-]*\b"),  # anything with a digit: codes, lots, ids, amounts, dates
)
# Units of measure, and words Chinese text writes in Latin letters itself.
ALLOWED_WORDS = frozenset({
    # units
    "mg", "mL", "ml", "kg", "km", "cm", "mcg", "µg", "μg", "mmol", "min", "IU",
    # Chinese pharmacy usage writes these in Latin letters
    "DTP",
    # the language switch names each language in that language
    "English",
    # Latin words the Chinese translations and data use themselves (an eponym, an abbreviation, the
    # INNs a drug form asks for in English)
    "Graves", "NSAIDs", "sacubitril", "valsartan",
    # clinical scores and measures Chinese clinical text writes in Latin letters (Child-Pugh 分级, eGFR)
    "Child-Pugh", "eGFR", "CKD", "mmHg", "Xa", "P-gp",
    # eponyms Chinese clinical text keeps in Latin letters (Beers 标准, Ebstein 畸形, Barrett 食管)
    "Beers", "Ebstein", "Barrett", "Cockcroft", "Gault",
    # the example of pinyin initials in the drug search hint ("拼音首字母（aldp）")
    "aldp",
})
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*(?:-[A-Za-z]+)*")
# Latin words separated only by spaces and ASCII punctuation form one run.
RUN_GAP = re.compile(r"^[\s,.;:!?()\"'/&·–—-]*$")
SKIPPED = {"script", "style"}
# Elements without an end tag: they never open a level.
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def _kept_as_is(tag: str, attrs: list[tuple[str, str | None]]) -> bool:
    values = dict(attrs)
    return (tag in SKIPPED or values.get("translate") == "no"
            or (values.get("lang") or "").lower().startswith("en"))


class _VisibleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._open: list[tuple[str, bool]] = []  # per open element: its tag, and is its text left out?

    def _leaving_out(self) -> bool:
        return bool(self._open) and self._open[-1][1]

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        # Two attributes are text on the screen: a button's caption (a form's submit field) and a
        # placeholder.
        if tag == "input" and not self._leaving_out() and not _kept_as_is(tag, attrs):
            shown = [values.get("placeholder")]
            if values.get("type") in ("submit", "button", "reset"):
                shown.append(values.get("value"))
            self.chunks += [" ".join(text.split()) for text in shown if text and text.strip()]
        if tag not in VOID:
            self._open.append((tag, _kept_as_is(tag, attrs) or self._leaving_out()))

    def handle_endtag(self, tag):
        # An end tag also closes what was left open inside it (<li>, <p> and <option> may be).
        if any(open_tag == tag for open_tag, _ in self._open):
            while self._open.pop()[0] != tag:
                pass

    def handle_data(self, data):
        if not self._leaving_out() and data.strip():
            self.chunks.append(" ".join(data.split()))


def visible_text(html: str) -> list[str]:
    """Each text node a reader sees, whitespace collapsed."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return parser.chunks


def is_english(word: str, names: frozenset[str] = frozenset()) -> bool:
    bare = word.strip("'’")
    return (len(word) >= 2 and any(c.islower() for c in word)
            and not {word, bare, bare.lower()} & (ALLOWED_WORDS | names))


def english_runs(text: str, names: frozenset[str] = frozenset()) -> list[str]:
    """The runs of untranslated English words in one text node."""
    for pattern in ALLOWED_PATTERNS:
        text = pattern.sub(" 0 ", text)
    runs, current, last_end = [], [], 0
    for match in LATIN_WORD.finditer(text):
        word = match.group()
        english = is_english(word, names)
        joined = current and RUN_GAP.match(text[last_end:match.start()])
        if english and joined:
            current.append(word)
        else:
            if current:
                runs.append(" ".join(current))
            current = [word] if english else []
        last_end = match.end()
    if current:
        runs.append(" ".join(current))
    return runs


def offenders(html: str, names: frozenset[str] = frozenset()) -> list[str]:
    """Each run of English on the page, with the text node it is in."""
    found = []
    for chunk in visible_text(html):
        for run in english_runs(chunk, names):
            found.append(f"{run!r}  in  {chunk[:160]!r}")
    return found
