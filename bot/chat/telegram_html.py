"""Telegram's HTML parse mode: a port of tdlib's ``parse_html`` (td/telegram/MessageEntity.cpp).

One parser for every place that must agree with Telegram about a text: the console shows an
answer as plain text and refuses what Telegram would refuse, and the tests' fake Bot API stores
the plain text and entities Telegram would. The error reasons are tdlib's own words, so that a
rendering bug reads the same in a test as in Telegram's 400 "Bad Request: can't parse
entities: …".

Pure: imports nothing of aiogram or the rest of the bot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

__all__ = ["HtmlParseError", "html_to_text", "parse_html", "utf16_length", "with_link_addresses"]

JsonDict = dict[str, Any]


class HtmlParseError(ValueError):
    """Telegram would refuse the text; ``str(error)`` is "can't parse entities: <reason>"."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"can't parse entities: {reason}")
        self.reason = reason


def utf16_length(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of Telegram's limits and offsets."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _OpenTag:
    """A start tag whose end tag the parser has not reached yet."""

    name: str
    argument: str
    offset: int  # in UTF-16 code units of the parsed text
    start: int  # index into the parsed text (code points)


_HTML_TAGS: Final = frozenset(
    [
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    ]
)
_SIMPLE_ENTITIES: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
}
_NAMED_ENTITIES: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES: Final = " \t\r\n\v\0"


def _decode_html_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode the character reference at ``text[pos] == "&"``: (character, index after it).

    Telegram knows only &lt; &gt; &amp; &quot; and numeric references; anything else is None
    and the "&" stays literal text.
    """
    end = pos + 1
    if text.startswith("#", end):
        end += 1
        hexadecimal = text.startswith("x", end)
        if hexadecimal:
            end += 1
        digits_start = end
        allowed = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
        while end < len(text) and text[end] in allowed:
            end += 1
        digits = text[digits_start:end]
        code = int(digits, 16 if hexadecimal else 10) if digits else 0
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return None
        character = chr(code)
    else:
        while end < len(text) and text[end].isascii() and text[end].isalpha():
            end += 1
        named = _NAMED_ENTITIES.get(text[pos + 1 : end])
        if named is None:
            return None
        character = named
    if text.startswith(";", end):
        end += 1
    return character, end


def parse_html(text: str) -> tuple[str, list[JsonDict]]:
    """Parse a text in Telegram's HTML style into plain text and Bot API ``MessageEntity`` dicts
    (offsets and lengths in UTF-16 code units, sorted as Telegram sorts them).

    Raises :class:``HtmlParseError`` ("can't parse entities: …") where Telegram would refuse.
    """

    def at(index: int) -> str:
        return text[index] if index < len(text) else "\0"

    def byte_offset(index: int) -> int:
        return len(text[:index].encode())

    def refuse(reason: str) -> HtmlParseError:
        return HtmlParseError(reason)

    out: list[str] = []
    utf16 = 0
    entities: list[JsonDict] = []
    open_tags: list[_OpenTag] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "&":
            decoded = _decode_html_entity(text, i)
            if decoded is not None:
                out.append(decoded[0])
                utf16 += utf16_length(decoded[0])
                i = decoded[1]
                continue
        if c != "<":
            out.append(c)
            utf16 += utf16_length(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != "/":
            while at(i) not in _SPACES and at(i) != ">":
                i += 1
            if i >= len(text):
                raise refuse(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            tag = text[begin + 1 : i].lower()
            if tag not in _HTML_TAGS:
                raise refuse(f'Unsupported start tag "{tag}" at byte offset {byte_offset(begin)}')
            argument = ""
            while at(i) != ">":
                while i < len(text) and at(i) in _SPACES:
                    i += 1
                if at(i) == ">":
                    break
                name_start = i
                while at(i) not in _SPACES and at(i) != "=":
                    i += 1
                attribute = text[name_start:i]
                if not attribute:
                    raise refuse(
                        f'Empty attribute name in the tag "{tag}" at byte offset '
                        f"{byte_offset(begin)}"
                    )
                while i < len(text) and at(i) in _SPACES:
                    i += 1
                if at(i) != "=":
                    raise refuse(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {byte_offset(begin)}'
                    )
                i += 1
                while i < len(text) and at(i) in _SPACES:
                    i += 1
                if i >= len(text):
                    raise refuse(f'Unclosed start tag "{tag}" at byte offset {byte_offset(begin)}')
                if at(i) not in "'\"":
                    # A name token: letters, digits, periods, hyphens; case-insensitive.
                    token_start = i
                    while at(i).isascii() and (at(i).isalnum() or at(i) in ".-"):
                        i += 1
                    value = text[token_start:i].lower()
                    if at(i) not in _SPACES and at(i) != ">":
                        where = byte_offset(token_start)
                        raise refuse(f"Unexpected end of name token at byte offset {where}")
                else:
                    quote = text[i]
                    i += 1
                    chars: list[str] = []
                    while i < len(text) and text[i] != quote:
                        if text[i] == "&":
                            decoded = _decode_html_entity(text, i)
                            if decoded is not None:
                                chars.append(decoded[0])
                                i = decoded[1]
                                continue
                        chars.append(text[i])
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = "".join(chars)
                if i >= len(text):
                    raise refuse(f"Unclosed start tag at byte offset {byte_offset(begin)}")
                if tag == "a" and attribute == "href":
                    argument = value
                elif tag == "code" and attribute == "class" and value.startswith("language-"):
                    argument = value.removeprefix("language-")
                elif tag == "span" and attribute == "class" and value.startswith("tg-"):
                    argument = value.removeprefix("tg-")
                elif tag == "tg-emoji" and attribute == "emoji-id":
                    argument = value
            i += 1  # past ">"
            if tag == "span" and argument != "spoiler":
                raise refuse(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}'
                )
            open_tags.append(_OpenTag(tag, argument, utf16, len(out)))
            continue

        # An end tag.
        if not open_tags:
            raise refuse(f"Unexpected end tag at byte offset {byte_offset(begin)}")
        while at(i) not in _SPACES and at(i) != ">":
            i += 1
        end_tag = text[begin + 2 : i].lower()
        while i < len(text) and at(i) in _SPACES:
            i += 1
        if at(i) != ">":
            raise refuse(f"Unclosed end tag at byte offset {byte_offset(begin)}")
        i += 1
        top = open_tags.pop()
        if end_tag and end_tag != top.name:
            raise refuse(
                f"Unmatched end tag at byte offset {byte_offset(begin)}, "
                f'expected "</{top.name}>", found "</{end_tag}>"'
            )
        if utf16 > top.offset:
            entity = _entity_for(top, utf16 - top.offset, "".join(out[top.start :]), entities)
            if entity is not None:
                entities.append(entity)
    if open_tags:
        raise refuse(f"Can't find end tag corresponding to start tag {open_tags[-1].name}")
    entities = _strip_code_languages(entities)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _entity_for(
    tag: _OpenTag, length: int, inner_text: str, entities: list[JsonDict]
) -> JsonDict | None:
    """The entity a closed tag makes; a <pre><code class="language-x"> pair merges in place."""
    entity: JsonDict = {"offset": tag.offset, "length": length}
    if tag.name in _SIMPLE_ENTITIES:
        return {"type": _SIMPLE_ENTITIES[tag.name], **entity}
    if tag.name == "tg-emoji":
        if not tag.argument.isdigit() or int(tag.argument) == 0:
            raise HtmlParseError("Invalid custom emoji identifier specified")
        return {"type": "custom_emoji", **entity, "custom_emoji_id": tag.argument}
    if tag.name == "a":
        url = tag.argument or inner_text
        # Telegram drops links it cannot make sense of rather than refusing the message.
        return {"type": "text_link", **entity, "url": url} if url.strip() else None
    last = entities[-1] if entities else None
    same_span = last is not None and (last["offset"], last["length"]) == (tag.offset, length)
    if tag.name == "pre":
        if last is not None and same_span and last["type"] == "code" and last.get("language"):
            entities.pop()
            return {"type": "pre", **entity, "language": last["language"]}
        return {"type": "pre", **entity}
    # tag.name == "code"
    if last is not None and same_span and last["type"] == "pre" and tag.argument:
        entities.pop()
        return {"type": "pre", **entity, "language": tag.argument}
    if tag.argument:
        # A language is kept only while a <pre> may still claim it; see the "pre" branch.
        return {"type": "code", **entity, "language": tag.argument}
    return {"type": "code", **entity}


def _strip_code_languages(entities: list[JsonDict]) -> list[JsonDict]:
    """Telegram keeps a language only on ``pre`` entities."""
    return [
        {k: v for k, v in e.items() if k != "language"} if e["type"] == "code" else e
        for e in entities
    ]


def html_to_text(text: str) -> str:
    """A Telegram HTML text as a terminal shows it: tags dropped, entities unescaped, and a
    link's address in parentheses after its text (see :func:`with_link_addresses`).

    Raises :class:`HtmlParseError` for a text Telegram would refuse.
    """
    return with_link_addresses(*parse_html(text))


def with_link_addresses(text: str, entities: list[JsonDict]) -> str:
    """A message's plain ``text`` with each ``text_link`` entity's address in parentheses after
    the link, unless the text there already ends with the address."""
    links = [e for e in entities if e["type"] == "text_link"]
    # Insert from the last link's end backwards, so earlier positions stay valid.
    for link in sorted(links, key=lambda e: e["offset"] + e["length"], reverse=True):
        end = _index_of(text, link["offset"] + link["length"])
        url = link["url"]
        if not text[:end].endswith(url):
            text = f"{text[:end]} ({url}){text[end:]}"
    return text


def _index_of(text: str, utf16_offset: int) -> int:
    """The index into ``text`` of the character at ``utf16_offset`` UTF-16 code units."""
    units = 0
    for index, character in enumerate(text):
        if units >= utf16_offset:
            return index
        units += 2 if ord(character) > 0xFFFF else 1
    return len(text)
