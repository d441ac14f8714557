"""Offline avatars: deterministic SVG for project URLs, refusal of anything else."""

from __future__ import annotations

import pytest

from election.avatars import avatar_data_uri, avatar_svg, avatar_url

VOTER = "avatars/voters/949dc669-5d12-48c1-b32f-ec42fc585bf6.svg"


def test_same_url_same_picture_and_different_ids_differ() -> None:
    assert avatar_svg(VOTER) == avatar_svg(VOTER)
    others = {avatar_svg(avatar_url("voters", f"{i:08d}-0000-4000-8000-000000000000")) for i in range(20)}
    assert len(others) > 10
    assert avatar_svg(VOTER).startswith("<svg")
    assert "http://www.w3.org/2000/svg" in avatar_svg(VOTER)


def test_data_uri_needs_no_file_or_network() -> None:
    assert avatar_data_uri(VOTER).startswith("data:image/svg+xml;base64,")


@pytest.mark.parametrize("url", ["https://randomuser.me/api/portraits/men/1.jpg", "avatars/../../etc/passwd", ""])
def test_anything_but_a_project_avatar_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="not an avatar URL"):
        avatar_svg(url)
