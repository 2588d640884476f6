"""walk(client, url, pattern): follow a list page's "next" links and collect what each page lists."""

import re
from html import unescape

NEXT = re.compile(r'id="pager-next" rel="next" href="([^"]+)"')
FIRST = re.compile(r'id="pager-first" href="([^"]+)"')


def listed(page: str, pattern: str) -> list[int]:
    return [int(found) for found in re.findall(pattern, page)]


def next_link(page: str) -> str | None:
    found = NEXT.search(page)
    return unescape(found.group(1)) if found else None


def walk(client, url: str, pattern: str, most: int = 20) -> list[list[int]]:
    """The ids each page shows, page after page, until a page has no next link."""
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.get_data(as_text=True)
        pages.append(listed(page, pattern))
        url = next_link(page)
        assert len(pages) <= most, "the next links go round in a circle"
    return pages
