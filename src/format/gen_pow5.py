#!/usr/bin/env python3
# gen_pow5.py -- write pow5_table.c, the 128-bit powers of five that
# number_parse.c's Eisel-Lemire path multiplies by.
#
# For every q in [POW5_MIN, POW5_MAX], entry q holds T and e such that
#     T <= 5^q * 2^-e < T + 1   and   2^127 <= T < 2^128,
# that is, 5^q scaled into 128 bits and truncated (exact integers only,
# no floating point).  number_parse.c's error bound relies on the
# truncation: the true value is never below T.
#
#   python3 src/format/gen_pow5.py > src/format/pow5_table.c
#
# IDENTIFICATION
#     src/format/gen_pow5.py

POW5_MIN = -342     # below this, 19 digits times 10^q underflow a double
POW5_MAX = 308      # above this, any nonzero mantissa overflows


def entry(q):
    if q >= 0:
        p = 5 ** q
        b = p.bit_length()
        if b >= 128:
            t, e = p >> (b - 128), b - 128
        else:
            t, e = p << (128 - b), -(128 - b)
    else:
        d = 5 ** -q
        s = 127 + d.bit_length()
        t, e = (1 << s) // d, -s
    assert (1 << 127) <= t < (1 << 128), q
    return t, e


def main():
    out = []
    out.append("/*" + "-" * 73)
    out.append(" *")
    out.append(" * pow5_table.c")
    out.append(" *\t\tPowers of five in 128 bits for number_parse.c (generated).")
    out.append(" *")
    out.append(" * Written by gen_pow5.py; do not edit.  Entry q - TELEM_POW5_MIN holds")
    out.append(" * {high 64 bits, low 64 bits} of T and TelemPow5Exp holds e, where")
    out.append(" * T <= 5^q * 2^-e < T + 1 and bit 127 of T is set.")
    out.append(" *")
    out.append(" * IDENTIFICATION")
    out.append(" *\t\tsrc/format/pow5_table.c")
    out.append(" *")
    out.append(" *" + "-" * 73)
    out.append(" */")
    out.append('#include "format/number_parse.h"')
    out.append("")
    out.append("#if TELEM_POW5_MIN != %d || TELEM_POW5_MAX != %d" % (POW5_MIN, POW5_MAX))
    out.append("#error \"pow5_table.c does not match number_parse.h; rerun gen_pow5.py\"")
    out.append("#endif")
    out.append("")
    out.append("const uint64_t TelemPow5Mant[%d][2] = {" % (POW5_MAX - POW5_MIN + 1))
    exps = []
    for q in range(POW5_MIN, POW5_MAX + 1):
        t, e = entry(q)
        exps.append(e)
        out.append("\t{UINT64_C(0x%016x), UINT64_C(0x%016x)},\t/* 5^%d */"
                   % (t >> 64, t & ((1 << 64) - 1), q))
    out.append("};")
    out.append("")
    out.append("const int16_t TelemPow5Exp[%d] = {" % (POW5_MAX - POW5_MIN + 1))
    for i in range(0, len(exps), 10):
        out.append("\t" + ", ".join("%d" % x for x in exps[i:i + 10]) + ",")
    out.append("};")
    print("\n".join(out))


if __name__ == "__main__":
    main()
