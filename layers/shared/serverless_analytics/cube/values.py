"""JavaScript-compatible rendering of values: Cube stringifies with `toString()` and JSON-encodes with JS rules."""

import json
from decimal import Decimal


def js_number(value: float) -> str:
    """`Number.prototype.toString()` for a float (shortest round-trip digits, JS exponent rules)."""
    if value != value:
        return 'NaN'
    if value in (float('inf'), float('-inf')):
        return 'Infinity' if value > 0 else '-Infinity'
    if value == 0:
        return '0'
    sign = '-' if value < 0 else ''
    mantissa, _, exponent = repr(abs(value)).partition('e')
    int_part, _, frac = mantissa.partition('.')
    stripped_int = int_part.lstrip('0')
    if stripped_int:
        point = len(stripped_int) + int(exponent or 0)
    else:
        point = int(exponent or 0) - (len(frac) - len(frac.lstrip('0')))
    digits = (int_part + frac).lstrip('0').rstrip('0')
    return sign + _place_point(digits, point)


def _place_point(digits: str, point: int) -> str:
    count = len(digits)
    if count <= point <= 21:
        return digits + '0' * (point - count)
    if 0 < point <= 21:
        return digits[:point] + '.' + digits[point:]
    if -6 < point <= 0:
        return '0.' + '0' * -point + digits
    exponent = point - 1
    fraction = '.' + digits[1:] if count > 1 else ''
    return f'{digits[0]}{fraction}e{"+" if exponent >= 0 else "-"}{abs(exponent)}'


def js_string(value) -> str | None:
    """`v.toString()` as the gateway applies it to filter values (`null` stays `null`)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return js_number(value)
    if isinstance(value, Decimal):
        return decimal_string(value)
    return str(value)


def decimal_string(value: Decimal) -> str:
    text = format(value, 'f')
    if '.' in text:
        text = text.rstrip('0').rstrip('.')
    return '0' if text in ('-0', '') else text


def js_json(value) -> str:
    """`JSON.stringify(value)` for JSON-decoded data (used in Cube's error messages)."""
    return json.dumps(value, separators=(',', ':'), ensure_ascii=False, default=str)


def wire_number(value) -> str | None:
    """A numeric result value as Cube sends it: a string, `null` kept."""
    if value is None or isinstance(value, str):
        return value
    return js_string(value)
