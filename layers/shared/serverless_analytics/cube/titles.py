"""Titles Cube generates when the model gives none: `inflection.titleize(inflection.underscore(camelCase(name)))`.

The three JS helpers are reproduced here (sindresorhus `camelcase` with `pascalCase`, and the `inflection`
package's `underscore` and `titleize`), so `startAt` gives `Start at` and `sessionID` gives `Session Id`.
"""

import re

_NON_TITLECASED = {
    'and',
    'or',
    'nor',
    'a',
    'an',
    'the',
    'so',
    'but',
    'to',
    'of',
    'at',
    'by',
    'from',
    'into',
    'on',
    'onto',
    'off',
    'out',
    'in',
    'over',
    'with',
    'for',
}


# JavaScript's `\b` is ASCII-only, as is this pattern's.
_ID_WORD = re.compile(r'\bId(s?)\b', re.ASCII)


def _is_lower(char: str) -> bool:
    return char.lower() == char and char.upper() != char


def _is_upper(char: str) -> bool:
    return char.upper() == char and char.lower() != char


def _preserve_camel_case(text: str) -> str:
    """camelcase's `preserveCamelCase`: insert `-` at lower→upper and UPPER→Upper+lower boundaries."""
    chars = list(text)
    last_lower = last_upper = last_last_upper = False
    i = 0
    while i < len(chars):
        char = chars[i]
        if last_lower and char.isalpha() and char.upper() == char:
            chars.insert(i, '-')
            last_lower, last_last_upper, last_upper = False, last_upper, True
            i += 1
        elif last_upper and last_last_upper and char.isalpha() and char.lower() == char:
            chars.insert(i - 1, '-')
            last_last_upper, last_upper, last_lower = last_upper, False, True
            i += 1
        else:
            last_lower = _is_lower(char)
            last_last_upper = last_upper
            last_upper = _is_upper(char)
        i += 1
    return ''.join(chars)


def pascal_case(name: str) -> str:
    text = name.strip()
    if len(text) == 1:
        return text.upper()
    if text != text.lower():
        text = _preserve_camel_case(text)
    text = re.sub(r'^[_.\- ]+', '', text).lower()
    text = re.sub(r'[_.\- ]+(\w|$)', lambda m: m.group(1).upper(), text)
    text = re.sub(r'\d+(\w|$)', lambda m: m.group(0).upper(), text)
    return text[:1].upper() + text[1:]


def underscore(text: str) -> str:
    return re.sub(r'^_', '', re.sub(r'([A-Z])', r'_\1', text)).lower()


def titleize(text: str) -> str:
    words = []
    for word in text.lower().replace('_', ' ').split(' '):
        parts = [part if part in _NON_TITLECASED else part[:1].upper() + part[1:] for part in word.split('-')]
        words.append('-'.join(parts))
    result = ' '.join(words)
    return result[:1].upper() + result[1:]


def humanize(name: str) -> str:
    """The title Cube derives from a cube or member name; Cube 1.7 writes the word `Id` as `ID` (`User ID`, `IDs`)."""
    return _ID_WORD.sub(lambda match: f'ID{match.group(1)}', titleize(underscore(pascal_case(name))))


def snake_case(name: str) -> str:
    """A SQL alias for a name (`TrackedEvents` → `tracked_events`), as Cube's aliasName does."""
    return underscore(pascal_case(name))
