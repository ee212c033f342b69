"""Backpropagation by hand and by the engine: J = 3(a + b*c) at (a, b, c) = (5, 3, 2).

The graph is  u = b*c,  v = a + u,  J = 3v.  Each node's local derivatives
are computed by the engine on that node alone, multiplied along the paths
(the chain rule), and compared with one backward pass over the whole graph:
dJ/da = 3, dJ/db = 6, dJ/dc = 9.  Then the graph is printed as Graphviz dot
text; with Graphviz installed it is also rendered to
``examples/figures/computation_graph.png``.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any

# Run from a checkout without installing: make the repository root importable.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from reverse import Variable  # noqa: E402
from reverse.graph import plot_dot_graph, to_dot  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # examples/_figures.py when imported from elsewhere
from _figures import figure_dir, parse_args  # noqa: E402

#: --out DIR, $EXACTDIFF_FIGURE_DIR or a temporary directory
DEFAULT_OUT = str(figure_dir())


def _local(op: Any, *values: float) -> tuple[float, ...]:
    """Partial derivatives of ``op`` at ``values``, from one node's own backward."""
    xs = [Variable(v) for v in values]
    op(*xs).backward()
    return tuple(float(x.grad.data) for x in xs)


def main(out_dir: str | None = DEFAULT_OUT, verbose: bool = True) -> dict[str, Any]:
    """Run the example; return values, local derivatives, gradients and the dot text.

    ``out_dir`` receives ``computation_graph.dot``/``.png`` when Graphviz is
    installed (None: do not render).
    """
    say = print if verbose else (lambda *a, **k: None)
    a, b, c = Variable(5.0, name="a"), Variable(3.0, name="b"), Variable(2.0, name="c")
    u = b * c
    u.name = "u"
    v = a + u
    v.name = "v"
    J = 3 * v
    J.name = "J"
    uv, vv, Jv = float(u.data), float(v.data), float(J.data)
    say(f"forward:  u = b*c = {uv:g},  v = a + u = {vv:g},  J = 3v = {Jv:g}")

    # Local derivatives: each node differentiated on its own.
    (dJ_dv,) = _local(lambda v_: 3 * v_, float(v.data))
    dv_da, dv_du = _local(lambda a_, u_: a_ + u_, float(a.data), float(u.data))
    du_db, du_dc = _local(lambda b_, c_: b_ * c_, float(b.data), float(c.data))
    local = {"dJ/dv": dJ_dv, "dv/da": dv_da, "dv/du": dv_du, "du/db": du_db, "du/dc": du_dc}
    say("local derivatives:")
    for name, value in local.items():
        say(f"  {name} = {value:g}")

    # Chain rule by hand: multiply the local derivatives along each path.
    chain = (dJ_dv * dv_da, dJ_dv * dv_du * du_db, dJ_dv * dv_du * du_dc)
    say("chain rule:  dJ/da = dJ/dv*dv/da = {:g},  dJ/db = dJ/dv*dv/du*du/db = {:g},  "
        "dJ/dc = dJ/dv*dv/du*du/dc = {:g}".format(*chain))

    # The engine: one backward pass over the whole graph.
    J.backward(retain_grad=True)
    grads = (float(a.grad.data), float(b.grad.data), float(c.grad.data))
    gv, gu = float(v.grad.data), float(u.grad.data)
    say(f"backward:  v.grad = {gv:g}, u.grad = {gu:g}")
    say("gradients (dJ/da, dJ/db, dJ/dc) = ({:g}, {:g}, {:g})".format(*grads))
    if grads != chain or grads != (3.0, 6.0, 9.0):
        raise AssertionError(f"expected (3, 6, 9), got backward {grads}, chain rule {chain}")

    dot = to_dot(J)
    say("\ngraph (Graphviz dot):")
    say(dot)
    png = None
    if out_dir is not None:
        if shutil.which("dot"):
            png = plot_dot_graph(J, os.path.join(out_dir, "computation_graph.png"))
            say(f"\nrendered to {png}")
        else:
            say("\nGraphviz is not installed, so no PNG was rendered; install it "
                "(e.g. `apt-get install graphviz`) and run this again, or render the text "
                "above yourself with `dot -Tpng graph.dot -o graph.png`.")
    return {"J": float(J.data), "local": local, "chain": chain, "grads": grads,
            "dot": dot, "png": png}


if __name__ == "__main__":
    parse_args(__doc__.splitlines()[0])  # --out sets the figure directory
    main(out_dir=str(figure_dir()))
