"""What a patient's SMS reply asks for: the whole message is one keyword, in English or Chinese."""

from enum import StrEnum


class Keyword(StrEnum):
    TAKEN = "taken"
    SKIPPED = "skipped"
    REFILL = "refill"
    STOP = "stop"
    START = "start"
    HELP = "help"


# Twilio's own opt-out and opt-in words (its Advanced Opt-Out matches them the same way), and 退订/TD,
# which Chinese carriers use.
WORDS = {
    Keyword.TAKEN: {"1", "taken", "yes", "已服"},
    Keyword.SKIPPED: {"2", "skip", "skipped", "未服"},
    Keyword.REFILL: {"refill", "续方"},
    Keyword.STOP: {"stop", "stopall", "unsubscribe", "end", "quit", "cancel", "t", "td", "r", "退订"},
    Keyword.START: {"start", "unstop"},
    Keyword.HELP: {"help", "info", "帮助"},
}
_BY_WORD = {word: keyword for keyword, words in WORDS.items() for word in words}
# Trailing punctuation a phone adds or a patient types ("Yes!", "退订。") does not change the word.
_TRAILING = " \t\r\n.,!?;:'\"。，！？；：、"


def classify(body: str | None) -> Keyword:
    """The keyword the message is, case-insensitive; anything else asks for help."""
    word = (body or "").strip().strip(_TRAILING).casefold()
    return _BY_WORD.get(word, Keyword.HELP)
