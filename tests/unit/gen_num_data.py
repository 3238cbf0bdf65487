#!/usr/bin/python3
"""gen_num_data.py -- expected results for tests/unit/test_num.c.

Run with the system Python 3.11 (and python3-mpmath for the correctly
rounded references):

    /usr/bin/python3 tests/unit/gen_num_data.py

It writes, beside itself (all committed; test_num.c reads them at run time
from $SL_TEST_DATA_DIR):

  num_repr.txt      "HEXFLOAT REPR": Python's repr of doubles
  num_arith.txt     "PREC OP ARGS EXPECTED": + - * / // % ** neg < ==
  num_math.txt      "PREC FN ARGS EXPECTED": the math functions
  num_format.txt    "VALUE SPEC EXPECTED": format(value, spec)
  num_shortest.txt  "PREC HEX DIGITS EXP10": shortest round-trip digits

Columns are separated by tabs.  Values are encoded as i:INT, b:True,
f:HEX (float.hex(), or 0xMANTp-EXP at other precisions, or inf/-inf/nan),
s:TEXT, n:None; several arguments are separated by commas.  An expected
float is f:REPR at 53 bits and f:HEX at other precisions; an error is
!Class: message (slope's message must start with Python's).

Where CPython's libm is not correctly rounded (pow, trig, ...), the expected
value is the correctly rounded one computed with mpmath, because slope's
MPFR results are correctly rounded; the script prints how often the two
differ.
"""
import math
import os
import random
import struct
import sys
from fractions import Fraction

try:
    import mpmath
except ImportError:
    sys.exit("gen_num_data.py needs mpmath (apt-get install python3-mpmath)")

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(20240601)
mpmath.mp.prec = 600
INF, NAN = float("inf"), float("nan")
COMPLEX_MSG = "!ValueError: negative number cannot be raised to a fractional power"
stats = {}


def bump(key):
    stats[key] = stats.get(key, 0) + 1


# ---- encodings ----

def fhex(x):
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x.hex()


def enc(v):
    if v is None:
        return "n:None"
    if isinstance(v, bool):
        return "b:%s" % v
    if isinstance(v, int):
        return "i:%d" % v
    if isinstance(v, float):
        return "f:" + fhex(v)
    if isinstance(v, str):
        return "s:" + v
    raise TypeError(v)


def expect(r):
    if isinstance(r, bool):
        return "b:%r" % r
    if isinstance(r, int):
        return "i:%d" % r
    if isinstance(r, float):
        return "f:%r" % r
    if isinstance(r, complex):
        return COMPLEX_MSG
    raise TypeError(r)


def err(e):
    return "!%s: %s" % (type(e).__name__, e)


def rand_double(kind):
    if kind == "bits":  # any bit pattern but nan
        while True:
            x = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
            if not math.isnan(x):
                return x
    if kind == "sub":
        x = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(52)))[0]
        return -x if rng.random() < 0.5 else x
    if kind == "unit":
        return rng.uniform(-10, 10)
    if kind == "log":
        x = 10.0 ** rng.uniform(-300, 300)
        return -x if rng.random() < 0.5 else x
    raise ValueError(kind)


# ---- exact rounding helpers (no exponent limit) ----

def round_bits(q, bits):
    """q (a Fraction) rounded to `bits` significant bits, ties to even."""
    if q == 0:
        return Fraction(0)
    sign = -1 if q < 0 else 1
    q = abs(q)
    e = q.numerator.bit_length() - q.denominator.bit_length()
    while Fraction(2) ** (e - 1) > q:
        e -= 1
    while Fraction(2) ** e <= q:
        e += 1
    scale = bits - e
    m = q * Fraction(2) ** scale
    fl = m.numerator // m.denominator
    rem = m - fl
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and fl % 2 == 1):
        fl += 1
    return sign * Fraction(fl) / Fraction(2) ** scale


def frac_hex(q):
    """A Fraction with a power-of-two denominator as 0xMANTp-EXP."""
    if q == 0:
        return "0x0p+0"
    sign = "-" if q < 0 else ""
    q = abs(q)
    n, d = q.numerator, q.denominator
    assert d & (d - 1) == 0
    return "%s0x%xp%d" % (sign, n, -(d.bit_length() - 1))


def to_double(q):
    """Correctly rounded double of an exact Fraction (subnormals included)."""
    return q.numerator / q.denominator if q.denominator != 1 else float(q.numerator)


def mp_frac(v):
    sign, man, exp, _bc = mpmath.mpf(v)._mpf_
    if man == 0:
        return Fraction(0)
    q = Fraction(int(man)) * 2 ** exp if exp >= 0 else Fraction(int(man), 2 ** -exp)
    return -q if sign else q


def cr_double(mpval):
    """mpmath value (600 bits) -> correctly rounded double."""
    v = mpmath.mpf(mpval)
    sign, man, exp, _bc = v._mpf_
    if man:
        size = exp + int(man).bit_length()  # |v| < 2^size
        if size < -1100:
            return -0.0 if sign else 0.0
        if size > 1100:
            return -INF if sign else INF
    return to_double(mp_frac(v))


# ---- num_repr.txt ----

def gen_repr():
    vals = []
    vals += [rand_double("bits") for _ in range(2500)]
    vals += [rand_double("sub") for _ in range(300)]
    vals += [float("1e%d" % k) for k in range(-325, 310)]
    vals += [2.0 ** k for k in range(-1074, 1024)]
    vals += [math.nextafter(2.0 ** k, 0) for k in range(-1000, 1024, 7)]
    vals += [math.nextafter(2.0 ** k, INF) for k in range(-1000, 1024, 7)]
    vals += [i / 10 + j / 10 for i in range(10) for j in range(10)]
    vals += [float(2 ** 53 + k) for k in range(-6, 7)]
    vals += [1e16, 1e-5, 1e-4, 1e15, 9999999999999998.0, 18.666666666666668, 0.1, 0.2, 0.3,
             0.1 + 0.2, 1 / 3, 2 / 3, 123456789012345678.0, 5e-324, 2.2250738585072014e-308,
             2.225073858507201e-308, 1.7976931348623157e308, 4.35, 0.001, 1e22, 1e23, 100.0,
             -0.0, 0.0, INF, -INF, NAN, 1.5, -2.5, 3.0, 0.5, 2 ** -1074 * 3]
    vals += [float("%.*g" % (rng.randint(1, 17), rand_double("log"))) for _ in range(500)]
    with open(os.path.join(HERE, "num_repr.txt"), "w") as f:
        for x in vals:
            f.write("%s %r\n" % (fhex(x), x))
    return len(vals)


# ---- num_arith.txt ----

ARITH_INTS = [0, 1, -1, 3, 7, -7, 10 ** 20, 2 ** 53 + 1, -(2 ** 100) + 1, 10 ** 400, True]
ARITH_FLOATS = [0.0, -0.0, 0.5, -2.5, 7.5, -2.0, 0.1, 0.2, 1 / 3, 1e308, -1e-308, 5e-324, INF, -INF,
                NAN, 1e16, -0.75]

OPS = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a / b, "//": lambda a, b: a // b, "%": lambda a, b: a % b,
    "**": lambda a, b: a ** b, "<": lambda a, b: a < b, "==": lambda a, b: a == b,
}


def int_pow_too_big(a, b):
    if isinstance(a, float) or isinstance(b, float) or b <= 0 or abs(a) <= 1:
        return False
    return b > 10 ** 6 or b * math.log2(abs(a)) > 20000


def cr_pow(a, b):
    """Correctly rounded double a**b for finite doubles, or None if the
    Python result should stand (specials, errors)."""
    if isinstance(a, int) and isinstance(b, int) and b >= 0:
        return None
    fa, fb = float(a), float(b)
    if not (math.isfinite(fa) and math.isfinite(fb)):
        return None
    if fb == int(fb) and abs(fb) <= 4096:
        q = Fraction(fa) ** int(fb)
    else:
        if fa < 0:
            return None
        q = mp_frac(mpmath.power(mpmath.mpf(fa), mpmath.mpf(fb)))
    try:
        return to_double(q)
    except OverflowError:
        return None


def arith_line(f, op, a, b):
    if op == "**" and int_pow_too_big(a, b):
        return
    if (op == "**" and isinstance(b, float) and math.isfinite(b) and b != int(b) and a < 0
            and not math.isinf(a)):
        f.write("53\t%s\t%s,%s\t%s\n" % (op, enc(a), enc(b), COMPLEX_MSG))  # Python: a complex
        return
    try:
        r = OPS[op](a, b)
        if op == "**" and isinstance(r, float) and math.isfinite(r) and r != 0:
            c = cr_pow(a, b)
            if c is not None and c != r:
                bump("pow: libm not correctly rounded")
                r = c
        e = expect(r)
    except Exception as ex:  # noqa: BLE001 -- Python's errors are the data
        e = err(ex)
    f.write("53\t%s\t%s,%s\t%s\n" % (op, enc(a), enc(b), e))


def gen_arith():
    vals = ARITH_INTS + ARITH_FLOATS
    n = 0
    with open(os.path.join(HERE, "num_arith.txt"), "w") as f:
        for op in OPS:
            for a in vals:
                for b in vals:
                    arith_line(f, op, a, b)
                    n += 1
        kinds = ["unit", "unit", "log", "bits", "sub"]
        for _ in range(250):
            a = rand_double(rng.choice(kinds))
            b = rand_double(rng.choice(kinds))
            if rng.random() < 0.2:
                a = rng.randint(-10 ** 6, 10 ** 6)
            for op in ["+", "-", "*", "/", "//", "%", "**", "<", "=="]:
                arith_line(f, op, a, b)
                n += 1
        for a, b in [(10 ** 20, 3), (2 ** 200 + 1, 3 ** 50), (-(10 ** 30), 7), (1, 3), (7, 2), (2, -1),
                     (10, -2), (2 ** 1023, 2 ** -1), (3 ** 700, 3 ** 699), (1, 10 ** 400),
                     (10 ** 400, 10 ** 399), (2 ** 1100, 2 ** 60), (1, 2 ** 1074), (1, 2 ** 1075),
                     (3, 2 ** 1076), (2 ** 53 + 1, 1), (-7, 2), (-7, 3), (7, -3)]:
            for op in ["/", "//", "%", "**"]:
                arith_line(f, op, a, b)
                n += 1
        for a in ARITH_INTS + ARITH_FLOATS:
            f.write("53\tneg\t%s\t%s\n" % (enc(a), expect(-a)))
            n += 1
        # 113 bits: exact rational results rounded once (ints converted first)
        for _ in range(300):
            xs = []
            for _k in range(2):
                if rng.random() < 0.2:
                    xs.append(rng.randint(-10 ** 40, 10 ** 40))
                else:
                    m = rng.getrandbits(113) | (1 << 112)
                    q = Fraction(m) * Fraction(2) ** rng.randint(-250, 100)
                    xs.append(-q if rng.random() < 0.5 else q)
            a, b = xs
            qa = a if isinstance(a, Fraction) else round_bits(Fraction(a), 113)
            qb = b if isinstance(b, Fraction) else round_bits(Fraction(b), 113)
            ea = "f:" + frac_hex(a) if isinstance(a, Fraction) else enc(a)
            eb = "f:" + frac_hex(b) if isinstance(b, Fraction) else enc(b)
            for op, fn in [("+", lambda x, y: x + y), ("-", lambda x, y: x - y),
                           ("*", lambda x, y: x * y), ("/", lambda x, y: x / y)]:
                if isinstance(a, int) and isinstance(b, int):
                    if op != "/":
                        continue
                    r = Fraction(a, b)  # int/int: the exact quotient
                else:
                    r = fn(qa, qb)
                f.write("113\t%s\t%s,%s\tf:%s\n" % (op, ea, eb, frac_hex(round_bits(r, 113))))
                n += 1
    return n


# ---- num_math.txt ----

MP = {
    "sin": mpmath.sin, "cos": mpmath.cos, "tan": mpmath.tan, "asin": mpmath.asin,
    "acos": mpmath.acos, "atan": mpmath.atan, "sinh": mpmath.sinh, "cosh": mpmath.cosh,
    "tanh": mpmath.tanh, "exp": mpmath.exp, "log": mpmath.log, "log2": lambda x: mpmath.log(x, 2),
    "log10": mpmath.log10, "sqrt": mpmath.sqrt,
    "cbrt": lambda x: mpmath.cbrt(x) if x >= 0 else -mpmath.cbrt(-x),
    "sigmoid": lambda x: 1 / (1 + mpmath.exp(-x)),
}


def py_sigmoid(x):
    x = float(x)
    if math.isnan(x):
        return x
    if x == INF:
        return 1.0
    if x == -INF:
        return 0.0
    if x == 0:
        return 0.5
    return None  # computed with mpmath


PYFN = {name: getattr(math, name) for name in MP if hasattr(math, name)}
PYFN["sigmoid"] = py_sigmoid

MATH_POINTS = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, 10.0, 100.0, 1e-10, -1e-10, 1e-300, 5e-324,
               1e300, 710.0, 709.0, -745.0, -746.0, 1e16, math.pi, math.pi / 2, INF, -INF, NAN, 1e22,
               0.1, 22.0, 0.7, -0.7, 1.0000001, 3.0, -3.0, 8.0, -8.0, 0.9999999999999999, 40.0, -40.0,
               800.0, -800.0, 1e-320]
MATH_INTS = [0, 1, -1, 2, 10, 1000, 10 ** 20, 3 ** 60, 10 ** 400, True]


def math_value(name, x):
    """Expected result of name(x) at 53 bits: Python's errors and special
    values, otherwise the correctly rounded value."""
    try:
        r = PYFN[name](x)
    except Exception as ex:  # noqa: BLE001
        if name == "log" and isinstance(x, int) and x > 0:
            r = None  # math.log of a huge int works (loghelper)
        else:
            return err(ex)
    if name in ("log", "log2", "log10") and isinstance(x, int) and not isinstance(x, bool) and x > 2 ** 1000:
        arg = mpmath.mpf(x)  # the exact int (beyond the double range)
    else:
        fx = float(x)
        if r is not None and (not math.isfinite(fx) or not math.isfinite(r) or r == 0):
            return expect(r)
        arg = mpmath.mpf(fx)
    c = cr_double(MP[name](arg))
    if r is not None and c != r:
        bump("%s: libm not correctly rounded" % name)
    return expect(c)


def gen_math():
    n = 0
    pts = MATH_POINTS + [rand_double("unit") for _ in range(40)] + [rand_double("log") for _ in range(30)]
    with open(os.path.join(HERE, "num_math.txt"), "w") as f:
        def line(prec, name, args, e):
            nonlocal n
            f.write("%s\t%s\t%s\t%s\n" % (prec, name, ",".join(args), e))
            n += 1
        for name in MP:
            for x in pts + MATH_INTS:
                if isinstance(x, int) and name not in ("log", "log2", "log10", "sqrt", "exp", "sin") \
                        and x not in (0, 1, 2):
                    continue
                line(53, name, [enc(x)], math_value(name, x))
        for y in [0.0, -0.0, 1.0, -1.0, INF, -INF, NAN, 2.5, -3e-300]:
            for x in [0.0, -0.0, 1.0, -1.0, INF, -INF, NAN, 0.5, -7.0, 1e300]:
                r = math.atan2(y, x)
                if math.isfinite(r) and r != 0 and math.isfinite(x) and math.isfinite(y) and x != 0 and y != 0:
                    c = cr_double(mpmath.atan2(mpmath.mpf(y), mpmath.mpf(x)))
                    if c != r:
                        bump("atan2: libm not correctly rounded")
                    r = c
                line(53, "atan2", [enc(y), enc(x)], expect(r))
        for x, b in [(8, 2), (100, 10), (1000.0, 10), (2.0, 0.5), (10, 1), (0, 10), (10, 0), (10 ** 400, 10),
                     (7.5, 3.2), (1e-300, 7), (-1, 2), (2, -1)]:
            try:
                la = cr_double(mpmath.log(mpmath.mpf(x if x > 2 ** 1000 else float(x)))) if x > 0 else None
                lb = cr_double(mpmath.log(mpmath.mpf(float(b)))) if b > 0 else None
                math.log(x, b)  # Python's errors
                e = expect(la / lb)
            except Exception as ex:  # noqa: BLE001
                e = err(ex)
            line(53, "log", [enc(x), enc(b)], e)
        rpts = pts + [1.5, 2.5, -0.5, -1.5, 0.49999999999999994, 2.675, 0.125, 0.375, 1e300, 150.0, 50.0,
                      25.0, -25.0, 1234.5678, 5e-324]
        for name, fn in [("floor", math.floor), ("ceil", math.ceil), ("abs", abs), ("round", round)]:
            for x in rpts + MATH_INTS + [-(10 ** 30), False]:
                try:
                    e = expect(fn(x))
                except Exception as ex:  # noqa: BLE001
                    e = err(ex)
                line(53, name, [enc(x)], e)
        for x in rpts + [0.5, 1.005, 2.345, 123456.789, -0.0]:
            for nd in [0, 1, 2, 3, -1, -2, -3, 5, 17, 20, 400, -400, -308, None]:
                try:
                    e = expect(round(x, nd))
                except Exception as ex:  # noqa: BLE001
                    e = err(ex)
                line(53, "round", [enc(x), enc(nd)], e)
        for x in [15, 25, 35, -15, -25, 1234567, 10 ** 20 + 5 * 10 ** 19, 0, 5, True, -(10 ** 30) - 5 * 10 ** 29]:
            for nd in [-1, -2, -21, -31, 0, 2, -100]:
                line(53, "round", [enc(x), enc(nd)], expect(round(x, nd)))
        line(53, "round", [enc(1.5), enc(2.0)], "!TypeError: 'float' object cannot be interpreted as an integer")
        for args in [[1, 2.0], [2, 2.0], [2.0, 2], [NAN, 1], [1, NAN], [True, 1], [1, True], [-0.0, 0.0],
                     [0.0, -0.0], [3, 1, 2], [1.5], [10 ** 400, INF], [-INF, -(10 ** 400)], [2, 1.5, 3, 3.0]]:
            for name, fn in [("min", min), ("max", max)]:
                line(53, name, [enc(a) for a in args], expect(fn(*args) if len(args) > 1 else args[0]))
        for x in pts + [0, 3, -3, True]:
            # relu and sign are slope's: relu keeps ints, floats give +0.0 below 0
            if isinstance(x, float):
                relu = x if (math.isnan(x) or x > 0) else 0.0
                sign = x if math.isnan(x) else (1.0 if x > 0 else -1.0 if x < 0 else 0.0)
            else:
                relu = max(int(x), 0)
                sign = (x > 0) - (x < 0)
            line(53, "relu", [enc(x)], expect(relu))
            line(53, "sign", [enc(x)], expect(sign))
        # 113 bits: correctly rounded, random arguments
        for name in MP:
            for _ in range(25):
                m = rng.getrandbits(113) | (1 << 112)
                lo, hi = (-125, -113) if name in ("asin", "acos") else (-122, -108)
                q = Fraction(m) * Fraction(2) ** rng.randint(lo, hi)
                if rng.random() < 0.5 and name not in ("log", "log2", "log10", "sqrt"):
                    q = -q
                r = round_bits(mp_frac(MP[name](mpmath.mpf(q.numerator) / q.denominator)), 113)
                line(113, name, ["f:" + frac_hex(q)], "f:" + frac_hex(r))
    return n


# ---- num_format.txt ----

FMT_VALUES = [0, 1, -1, 42, -42, 1234567, -1234567, 10 ** 20, 255, 65, 0x263A, True, False,
              0.0, -0.0, 1.0, -1.5, 0.1, 3.14159, 1234567.891, 1e16, 1e-5, 1.5e300, 5e-324, INF, -INF,
              NAN, 0.5, 2.5, 123.456, -0.0001, 9.995, 1e22, 1e-7, 100.0, 12345.6789e10,
              "", "abc", "héllo", "日本語"]
FMT_SPECS = ["", "d", "5", "<5", ">8", "^9", "*^9", "0=8", "+", "-", " ", "+08", ",", "_", "010,", "08,",
             "#x", "#X", "#o", "#b", "x", "X", "_x", "_b", "#_b", "#010x", ",d", "n", "c", "e", "E",
             ".3e", "f", ".2f", ".0f", "#.0f", "F", "g", ".3g", "#.3g", "G", ".10g", "%", ".1%", ".3",
             ".1", "10.3", "z.2f", "z", "+.2e", " .3f", "=+10.2f", "012,.2f", ",.2f", "_.3f", "s", ".2s",
             ">10s", "^10.2", "=10", "#", "z.1f", ".0e", ".0g", ".0%", "#.0e", "#g", ",g", "★^12",
             "0<8", "xyz", ".", ".5x", "+c", ",c", "_n", "010.3e", ".30f", ".20e", ".17g", ".25g",
             "5.5", "08.3", "-^+10.2f", "10", "<", "^", "=", "*<+12,.3f", "0^7", ",_", "_,", "#c",
             "z#.3g", ".3n", "+n", "0=+9", "\u00e9", " 015_.4f", "x<20,.5e", "99999999999999999999",
             ".99999999999", "=^", "=^=", "^=", "z,d", "#.5", "#10.0%", "15,.2%"]


def gen_format():
    n = 0
    with open(os.path.join(HERE, "num_format.txt"), "w") as f:
        for v in FMT_VALUES:
            for spec in FMT_SPECS:
                try:
                    e = format(v, spec)
                    if any(ord(c) < 32 or c == "\x7f" for c in e):
                        continue
                except Exception as ex:  # noqa: BLE001
                    e = err(ex)
                if len(e) > 400:
                    continue
                f.write("%s\t%s\t%s\n" % (enc(v), spec, e))
                n += 1
        # random specs: the parse order and its errors
        pieces = ["", "", "<", ">", "^", "=", "*<", "0>", "x^", "+", "-", " ", "z", "#", "0", "7", "12",
                  ",", "_", ".", ".0", ".3", ".12", "b", "c", "d", "e", "E", "f", "F", "g", "G", "n", "o",
                  "s", "x", "X", "%", "r", "!"]
        values = [v for v in FMT_VALUES if not isinstance(v, str) or v] + [-7.25e-3, 2 ** 70, -(2 ** 40)]
        for _ in range(2500):
            spec = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))
            v = rng.choice(values)
            try:
                e = format(v, spec)
                if any(ord(c) < 32 or c == "\x7f" for c in e) or len(e) > 400:
                    continue
            except Exception as ex:  # noqa: BLE001
                e = err(ex)
            f.write("%s\t%s\t%s\n" % (enc(v), spec, e))
            n += 1
    return n


# ---- num_shortest.txt ----

def shortest(q, bits):
    """Least n and nearest n-digit decimal that rounds back to q."""
    x = abs(q)
    E = len(str(x.numerator // x.denominator)) if x >= 1 else 0
    while Fraction(10) ** E <= x:
        E += 1
    while Fraction(10) ** (E - 1) > x:
        E -= 1

    def cand(n):
        s = x / Fraction(10) ** (E - n)
        lo = s.numerator // s.denominator
        best = None
        for d in (lo, lo + 1):
            val = Fraction(d) * Fraction(10) ** (E - n)
            if round_bits(val, bits) != x:
                continue
            # the nearest; on a tie (x halfway) the even digit, as dtoa does
            if best is None or abs(val - x) < abs(best[1] - x) or (abs(val - x) == abs(best[1] - x) and d % 2 == 0):
                best = (d, val)
        return best

    lo, hi = 0, 2 + int(bits * 0.30103) + 1
    best = cand(hi)
    assert best
    while hi - lo > 1:
        mid = (lo + hi) // 2
        c = cand(mid)
        if c:
            hi, best = mid, c
        else:
            lo = mid
    d = best[0]
    digits = str(d)
    exp10 = E if len(digits) == hi else E + 1
    return digits.rstrip("0") or "0", exp10


def gen_shortest():
    n = 0
    with open(os.path.join(HERE, "num_shortest.txt"), "w") as f:
        for bits, count, erange in [(24, 300, 140), (113, 150, 400), (1000, 25, 3000)]:
            vals = []
            for _ in range(count):
                m = rng.getrandbits(bits) | (1 << (bits - 1))
                vals.append(Fraction(m) * Fraction(2) ** rng.randint(-erange, erange))
            for k in list(range(-60, 61, 3)) + [-erange, erange]:
                vals.append(Fraction(2) ** k)  # lopsided rounding intervals
                vals.append(round_bits(Fraction(10) ** k, bits))
            vals.append(round_bits(Fraction(1, 10), bits))
            vals.append(round_bits(Fraction(1, 3), bits))
            for q in vals:
                digits, e = shortest(q, bits)
                f.write("%d\t%s\t%s\t%d\n" % (bits, frac_hex(q), digits, e))
                n += 1
    return n


def main():
    counts = [("num_repr.txt", gen_repr()), ("num_arith.txt", gen_arith()), ("num_math.txt", gen_math()),
              ("num_format.txt", gen_format()), ("num_shortest.txt", gen_shortest())]
    for name, c in counts:
        print("%-18s %6d lines" % (name, c))
    for k in sorted(stats):
        print("  %s: %d" % (k, stats[k]))


if __name__ == "__main__":
    main()
