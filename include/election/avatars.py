"""Offline pictures: candidates' photos and voters' pictures are SVG avatars generated from their id.

The original project stored randomuser.me URLs. Here `photo_url` / `picture` hold a project-relative URL,
`avatars/<kind>/<id>.svg`, and `avatar_svg()` renders the image for it: the same id always gives the same
face, nothing is stored twice, and nothing is fetched from the internet. The dashboard shows them inline.
"""

from __future__ import annotations

import base64
import hashlib
import re

_URL = re.compile(r"^avatars/(?P<kind>candidates|voters)/(?P<entity_id>[0-9A-Za-z-]+)\.svg$")

_BACKGROUNDS = ("#e8f1fb", "#fdf0e6", "#eaf7ee", "#f3ecfa", "#fdeef2", "#eef4f4", "#fbf7e6", "#edf0f7")
_SKIN = ("#f6d3b3", "#e9b48a", "#c98e62", "#a26a42", "#7a4b2a", "#5c3a21")
_HAIR = ("#2b2118", "#5a3825", "#a0662f", "#d9b26f", "#8d8d8d", "#b5452a", "#1d1d2b")
_SHIRT = ("#2f5d8a", "#8a2f45", "#2f8a5d", "#6a4c93", "#c27c0e", "#3b3b3b", "#0f7c8c", "#9c3d1d")


def avatar_url_parts(kind: str) -> tuple[str, str]:
    """What comes before and after the id in the URL of a `kind`'s pictures (to build many at once)."""
    return f"avatars/{kind}/", ".svg"


def avatar_url(kind: str, entity_id: str) -> str:
    """The project-relative URL of an entity's picture (`kind` is "candidates" or "voters")."""
    prefix, suffix = avatar_url_parts(kind)
    url = f"{prefix}{entity_id}{suffix}"
    if not _URL.match(url):
        raise ValueError(f"not an avatar kind/id: {kind!r}, {entity_id!r}")
    return url


def is_avatar_url(url: str) -> bool:
    return bool(_URL.match(url or ""))


def avatar_svg(url: str, size: int = 96) -> str:
    """The SVG markup for an avatar URL; the same URL always gives the same picture."""
    if not is_avatar_url(url):
        raise ValueError(f"not an avatar URL of this project: {url!r}")
    digest = hashlib.sha256(url.encode()).digest()

    def pick(palette: tuple[str, ...], byte: int) -> str:
        return palette[digest[byte] % len(palette)]

    background, skin, hair, shirt = pick(_BACKGROUNDS, 0), pick(_SKIN, 1), pick(_HAIR, 2), pick(_SHIRT, 3)
    hair_style = digest[4] % 3
    hair_path = (
        "M26 44 Q28 18 48 17 Q68 18 70 44 Q62 30 48 30 Q34 30 26 44Z",  # short
        "M24 56 Q22 16 48 15 Q74 16 72 56 L66 56 Q66 30 48 29 Q30 30 30 56Z",  # long
        "M28 40 Q30 22 48 22 Q66 22 68 40 Q58 34 48 34 Q38 34 28 40Z",  # cropped
    )[hair_style]
    smile = 60 + digest[5] % 5
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 96 96" width="{size}" height="{size}">'
        f'<rect width="96" height="96" rx="12" fill="{background}"/>'
        f'<path d="M14 96 Q16 70 48 68 Q80 70 82 96Z" fill="{shirt}"/>'
        f'<rect x="41" y="56" width="14" height="14" fill="{skin}"/>'
        f'<ellipse cx="48" cy="44" rx="20" ry="23" fill="{skin}"/>'
        f'<path d="{hair_path}" fill="{hair}"/>'
        f'<circle cx="40" cy="45" r="2.4" fill="#222"/><circle cx="56" cy="45" r="2.4" fill="#222"/>'
        f'<path d="M40 {smile - 4} Q48 {smile + 2} 56 {smile - 4}" stroke="#7a3b2e" stroke-width="2.2" '
        f'fill="none" stroke-linecap="round"/>'
        "</svg>"
    )


def avatar_data_uri(url: str, size: int = 96) -> str:
    """The avatar as a `data:` URI, for an <img> tag or st.image without any file or network access."""
    encoded = base64.b64encode(avatar_svg(url, size).encode()).decode()
    return f"data:image/svg+xml;base64,{encoded}"
