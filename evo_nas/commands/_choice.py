"""The arguments that choose one member of a run's Pareto set, shared by ``train``, ``export`` and ``verify``."""
from __future__ import annotations


def add_choice_arguments(p, pareto: bool = False) -> None:
    g = p.add_argument_group("choosing one Pareto member of RUN")
    g.add_argument("--key", help="the member with this genome string")
    g.add_argument("--knee", action="store_true",
                   help="the knee: the member farthest below the line through the extremes (objectives scaled to [0, 1])")
    g.add_argument("--best", metavar="OBJECTIVE", help="the member best in OBJECTIVE (e.g. top1), under --under/--over")
    g.add_argument("--under", action="append", metavar="NAME=VALUE", help="with --best: NAME <= VALUE (repeatable)")
    g.add_argument("--over", action="append", metavar="NAME=VALUE", help="with --best: NAME >= VALUE (repeatable)")


def choice_from_args(run, args):
    """The ``Choice`` the arguments make over ``run`` (a ``RunDir``); ``ValueError`` for a bad combination."""
    from ..deploy.choose import choose_in_run, parse_limits

    limits = parse_limits(args.under, "max") + parse_limits(args.over, "min")
    return choose_in_run(run, key=args.key, knee=args.knee, best=args.best, limits=limits)


def wants_choice(args) -> bool:
    return bool(args.key is not None or args.knee or args.best is not None)
