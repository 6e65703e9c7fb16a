"""The Omneo list paginator (gateway/vendors/omneo/paging.py), table-driven: which page a query asks for, and the
Laravel envelope's links and meta around one page."""
from __future__ import annotations

import pytest
from yarl import URL

from gateway.vendors.omneo import paging


class Request:
    def __init__(self, url: str):
        self.url = URL(url)
        self.query = self.url.query


@pytest.mark.parametrize("query, number, size", [
    ({}, 1, 15),
    ({"page[size]": 5}, 1, 5),
    ({"page[number]": 3, "page[size]": 5}, 3, 5),
    ({"page": 2, "per_page": 7}, 2, 7),
    ({"page[number]": 4, "page": 2, "page[size]": 9, "per_page": 7}, 4, 9),    # the current names win
])
def test_requested(query, number, size):
    page = paging.requested(query)
    assert (page.number, page.size, page.offset) == (number, size, (number - 1) * size)


@pytest.mark.parametrize("current, last, labels", [
    (1, 1, ["1"]),
    (2, 3, ["1", "2", "3"]),
    (1, 14, [str(n) for n in range(1, 15)]),                                      # 14 pages: all shown
    (1, 15, ["1", "2", "3", "4", "5", "6", "7", "8", "...", "14", "15"]),
    (8, 20, ["1", "2", "...", "5", "6", "7", "8", "9", "10", "11", "...", "19", "20"]),
    (20, 20, ["1", "2", "...", "12", "13", "14", "15", "16", "17", "18", "19", "20"]),
])
def test_page_links_window(current, last, labels):
    body = paging.envelope(Request(f"http://h/api/v3/points?page[number]={current}&page[size]=1"),
                           [{}], last, paging.Page(current, 1))
    links = body["meta"]["links"]
    assert [l["label"] for l in links[1:-1]] == labels
    assert [l["label"] for l in links if l["active"]] == [str(current)]
    assert all(l["url"] is None for l in links if l["label"] == "...")
    assert (links[0]["url"] is None) == (current == 1) and (links[-1]["url"] is None) == (current == last)


def test_envelope_keeps_the_query_and_counts_rows():
    body = paging.envelope(Request("http://h/api/v3/profiles?filter[email]=a%40b.c&page[size]=2&page[number]=2"),
                           [{"id": 3}, {"id": 4}], 5, paging.Page(2, 2))
    assert body["links"] == {
        "first": "http://h/api/v3/profiles?filter[email]=a%40b.c&page[size]=2&page[number]=1",
        "last": "http://h/api/v3/profiles?filter[email]=a%40b.c&page[size]=2&page[number]=3",
        "prev": "http://h/api/v3/profiles?filter[email]=a%40b.c&page[size]=2&page[number]=1",
        "next": "http://h/api/v3/profiles?filter[email]=a%40b.c&page[size]=2&page[number]=3"}
    meta = {k: v for k, v in body["meta"].items() if k != "links"}
    assert meta == {"current_page": 2, "from": 3, "last_page": 3, "path": "http://h/api/v3/profiles", "per_page": 2,
                    "to": 4, "total": 5}
    empty = paging.envelope(Request("http://h/api/v3/points"), [], 0, paging.Page(1, 15))
    assert (empty["meta"]["from"], empty["meta"]["to"], empty["meta"]["last_page"]) == (None, None, 1)
