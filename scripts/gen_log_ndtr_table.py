"""Print the Taylor table of log_ndtr's derivative h = phi/Phi used by
``_exactdiff.special.log_ndtr_h_derivative_mid`` (run: python3 scripts/gen_log_ndtr_table.py).

h satisfies the Riccati equation h' = -h (x + h), so about a centre c the Taylor
coefficients of h(c + t) = sum a_n t**n follow from a_0 = h(c):
(n + 1) a_(n+1) = -(c a_n + a_(n-1) + sum_k a_k a_(n-k)).  Evaluated with mpmath at
60 digits (the recurrence cancels for n = 1, 2 as the closed forms do; the extra
digits absorb it) and rounded once to float64.  Centres -3.875, -3.625, ..., 1.875
(every 0.25 on [-4, 2)); coefficients a_2 .. a_21, which give h'' and h''' to below
1e-17 relatively for abs(t) <= 1/8.
"""

import mpmath as M

M.mp.dps = 60
LO, STEP, CENTRES, FIRST, LAST = -4.0, 0.25, 24, 2, 21


def coefs(c):
    c = M.mpf(c)
    a = [M.npdf(c) / M.ncdf(c)]
    for n in range(LAST):
        s = sum(a[k] * a[n - k] for k in range(n + 1))
        prev = a[n - 1] if n >= 1 else 0
        a.append(-(c * a[n] + prev + s) / (n + 1))
    return a[FIRST:LAST + 1]


if __name__ == "__main__":
    print("_LOG_NDTR_TAYLOR = (")
    for i in range(CENTRES):
        vals = [repr(float(v)) for v in coefs(LO + STEP * (i + 0.5))]
        lines, line = [], "    ("
        for v in vals:
            piece = v + ", "
            if len(line) + len(piece) > 92:
                lines.append(line.rstrip())
                line = "     "
            line += piece
        lines.append(line.rstrip().rstrip(",") + "),")
        print("\n".join(lines))
    print(")")
