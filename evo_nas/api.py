"""The Python API: ``search`` and ``resume`` run a search, ``load_run`` opens one, and both return a ``Result``.

As pymoo's ``minimize`` returns a ``Result`` and Optuna's ``load_study`` reopens a study from
its storage, a search here writes a run directory (the storage) and returns a ``Result`` that
reads it::

    import evo_nas

    result = evo_nas.search("quickstart", search={"generations": 5})
    result.pareto          # the non-dominated records: genome string ``key`` and objectives
    result.plot()          # RUN/pareto.png
    evo_nas.load_run(result.run_dir).hypervolume

Overrides are keyword arguments named after a top-level key of the configuration (``seed``
or a section: ``search``, ``objectives``, ``problem``, ...). A table merges into the section
key by key, recursively (``search={"generations": 5}`` changes only ``[search] generations``);
any other value replaces the key (``seed=3``). An unknown top-level key is a ``ValueError``
naming it; keys inside a section are checked when the search validates its configuration.
The CLI's ``evo-nas search`` is a thin layer over these functions.
"""
from __future__ import annotations

import copy
import difflib
import functools
import json
from pathlib import Path

RUNS = Path("runs")


CONFIGS = Path(__file__).resolve().parent / "configs"


def config_names() -> list[str]:
    """The example configurations shipped in the package, by name (``evo-nas search NAME``)."""
    return sorted(p.stem for p in CONFIGS.glob("*.toml"))


def config_path(config: str | Path) -> Path:
    """The file a config argument names: a path as given, or, for a bare name such as
    ``quickstart`` that is no file here, the example of that name shipped in the package."""
    path = Path(config)
    if path.exists() or path.suffix or len(path.parts) != 1:
        return path
    shipped = CONFIGS / f"{path.name}.toml"
    if shipped.is_file():
        return shipped
    from .base.errors import MissingFile

    raise MissingFile(f"config file not found: {config} (nor an example config of that name: "
                            f"{', '.join(config_names())})")


def read_config(config) -> tuple[dict, Path | None]:
    """A configuration as a new dict, and the TOML file it came from (None for a dict).

    ``config``: a dict, the path of a TOML file (``str`` or ``Path``), or the name of an example
    shipped in the package (``"quickstart"``)."""
    from .spaces.loader import read_toml

    if isinstance(config, dict):
        return copy.deepcopy(config), None
    if isinstance(config, (str, Path)):
        path = config_path(config)
        return read_toml(path, "config"), path
    raise TypeError(f"config must be a dict or the path of a TOML file, got {type(config).__name__}: {config!r}")


def _merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def apply_overrides(config: dict, overrides: dict) -> dict:
    """``config`` with ``overrides`` merged in (see the module docstring); ``ValueError`` names an unknown key."""
    from .engine.settings import CONFIG_SECTIONS

    for key in overrides:
        if key not in CONFIG_SECTIONS:
            if "." in key:
                section, _, rest = key.partition(".")
                hint = f"; overrides are top-level keys, e.g. {section}={{{rest!r}: ...}}"
            else:
                close = difflib.get_close_matches(key, CONFIG_SECTIONS, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"unknown override key {key!r} (expected one of {', '.join(CONFIG_SECTIONS)}){hint}")
    return _merge(config, overrides)


def free_run_dir(name: str, root: Path = RUNS, *, claim: bool = False) -> Path:
    """``root/name``, or ``root/name-N`` with the smallest N not taken. ``claim``: create it, atomically,
    so that searches started at the same moment get one directory each."""
    n = 0
    while True:
        path = Path(root) / (name if n == 0 else f"{name}-{n}")
        n += 1
        if path.exists():
            continue
        if not claim:
            return path
        top = path  # the topmost folder made here: a search that fails early removes it again
        while not top.parent.exists():
            top = top.parent
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir()
        except FileExistsError:  # another search took it meanwhile
            continue
        _CLAIMED[path] = top
        return path


# a directory free_run_dir claimed -> the topmost folder it made for it
_CLAIMED: dict[Path, Path] = {}


def default_run_dir(config, source: Path | None = None, *, claim: bool = False) -> Path:
    """Where ``search`` writes when no ``run_dir`` is given: ``runs/<TOML file name>`` for a file,
    ``runs/<problem name>`` for a dict (relative to the working directory), numbered if taken
    (``claim``: created, see ``free_run_dir``)."""
    from .problems import problem_name

    return free_run_dir(source.stem if source is not None else str(problem_name(config)), claim=claim)


def search(config, run_dir=None, *, verbose: bool = False, claimed: bool = False, **overrides) -> "Result":
    """Run a search and return its ``Result``.

    ``config``: a dict or the path of a TOML file (relative data and space paths then resolve
    from the file's folder, as with ``evo-nas search``). ``run_dir``: a new directory (default
    ``default_run_dir``); one that holds a run is refused (``FileExistsError``). ``verbose``:
    a progress bar on stderr. ``claimed``: ``run_dir`` is an empty directory made for this search
    (``free_run_dir(..., claim=True)``), removed again if it fails before its first evaluation.
    ``overrides``: see the module docstring. Configuration errors are
    ``ValueError``s naming the bad key and value, raised before anything is written."""
    config, source = read_config(config)
    config = apply_overrides(config, overrides)
    if source is not None:
        search_section = config.setdefault("search", {})
        if isinstance(search_section, dict):
            search_section.setdefault("base_dir", str(source.resolve().parent))
    claimed = run_dir is None or claimed
    run_dir = Path(run_dir) if run_dir is not None else default_run_dir(config, source, claim=True)
    made = _CLAIMED.pop(run_dir, run_dir) if claimed else None
    return _run(config, run_dir, resume=False, verbose=verbose, claimed=made)


def resume(run_dir, config=None, *, verbose: bool = False, rebuild: bool = False, **overrides) -> "Result":
    """Continue the run in ``run_dir`` from its last checkpoint and return its ``Result``.

    The search state is rebuilt by replaying the seeded search over the run's records, checked
    against its checkpoint and logbook (a ``ValueError`` of one line when they disagree).
    ``rebuild=True`` replays over whatever records the run holds without those checks (what is
    missing is evaluated again): the way to resume a run of an older evo-nas (``checkpoint.pkl``).

    ``config`` (dict or TOML path; default: the run's ``config.json``) and ``overrides`` may
    change only how the search executes (``[search] n_jobs``, ``backend``, ``scheduler``,
    ``threads_per_worker``, ``cache``, ``base_dir``); any other difference is a ``ValueError``
    naming the section."""
    from .engine.run import RunDir

    base = read_config(config)[0] if config is not None else RunDir(run_dir).config
    return _run(apply_overrides(base, overrides), Path(run_dir), resume=True, verbose=verbose, rebuild=rebuild)


def _run(config: dict, run_dir: Path, *, resume: bool, verbose: bool, rebuild: bool = False,
         claimed: Path | None = None) -> "Result":
    from .engine.runner import run_search

    outcome = run_search(config, run_dir, resume=resume, quiet=not verbose, rebuild=rebuild, claimed=claimed)
    return Result(outcome.run_dir, wall_s=outcome.wall_s)


def load_run(path) -> "Result":
    """The ``Result`` of the run directory ``path`` (finished, or stopped part-way); ``FileNotFoundError``
    when ``path`` holds no run."""
    from .engine.run import RunDir

    return Result(RunDir(path).path)


class Result:
    """A search's results, read from its run directory (so a loaded run and a fresh one look alike).

    - ``pareto``: the feasible non-dominated evaluation records, sorted by the last objective;
      each has ``key`` (the genome's canonical string), ``genes``, ``generation``, ``status``
      and every objective in its natural unit (``latency_ms`` in ms, accuracies as fractions);
      with one objective, the best record and any that tie with it (``best``: the first);
    - ``evaluations``: one record per genome of the run, in first-evaluated order;
    - ``history``: the logbook, one dict per generation (``evaluations``, ``cache_hits``,
      ``failures``, ``front_size``, ``hypervolume``, ``best_<objective>``, seconds);
    - ``hypervolume``: of the Pareto set against ``[objectives] reference`` (None without one);
    - ``true_front``: where the problem knows its exact Pareto front, the members recovered and
      the IGD (``run.json``'s ``true_front``; None otherwise);
    - ``objectives``, ``config``, ``summary`` (``run.json``), ``status``, ``stopped``, ``run_dir``;
      the counts ``n_evaluations``, ``generations``, ``failures``, ``cache_hits``; ``wall_s``
      (seconds, for a search run by this process; None for a loaded run).

    Files are read on first use and kept; ``load_run`` again to see later changes.
    ``pareto`` and ``hypervolume`` come from ``pareto.json`` (written when a search ends), or
    are computed from the evaluations of a run that has none yet.
    """

    def __init__(self, run_dir, *, wall_s: float | None = None):
        from .engine.run import RunDir

        self._run = RunDir(run_dir)
        self.run_dir: Path = self._run.path
        self.wall_s = wall_s

    @functools.cached_property
    def config(self) -> dict:
        return self._run.config

    @functools.cached_property
    def summary(self) -> dict:
        return self._run.summary()

    @functools.cached_property
    def objectives(self):
        return self._run.objectives()

    @functools.cached_property
    def evaluations(self) -> list[dict]:
        return self._run.evaluations()

    @functools.cached_property
    def history(self) -> list[dict]:
        return self._run.logbook()

    @functools.cached_property
    def _pareto_file(self) -> dict | None:
        try:
            return json.loads((self.run_dir / "pareto.json").read_text())
        except FileNotFoundError:
            return None

    @functools.cached_property
    def pareto(self) -> list[dict]:
        stored = self._pareto_file
        return stored["front"] if stored is not None else self._run.pareto(self.evaluations)

    @property
    def best(self) -> dict:
        """The best feasible record of a single-objective run (``pareto`` holds it and any that tie with
        it); ``ValueError`` for more objectives (a Pareto set, no one best: see ``pareto``) or when no
        evaluation is feasible."""
        names = list(self.objectives.names)
        if len(names) != 1:
            raise ValueError(f"{self.run_dir}: a run of {len(names)} objectives ({', '.join(names)}) has a Pareto "
                             f"set, not one best record: see Result.pareto")
        if not self.pareto:
            raise ValueError(f"{self.run_dir}: no feasible evaluation, so no best {names[0]}")
        return self.pareto[0]

    @functools.cached_property
    def hypervolume(self) -> float | None:
        stored = self._pareto_file
        if stored is not None:
            return stored.get("hypervolume")
        from .engine.front import front_hypervolume

        return front_hypervolume(self.pareto, self.objectives)

    @property
    def true_front(self) -> dict | None:
        """For a problem that knows its exact Pareto front (``Problem.true_front``), how the search
        compares with it (``run.json``: ``size``, ``recovered``, ``recovered_fraction``, ``igd``, and
        with a reference ``hypervolume`` and ``hypervolume_ratio``); else None."""
        return self.summary.get("true_front")

    @property
    def status(self) -> str | None:
        """``running``, ``done``, ``interrupted`` or ``error`` (``run.json``)."""
        return self.summary.get("status")

    @property
    def stopped(self) -> str | None:
        """Why a finished search stopped: ``generations``, ``max_evaluations``, ``stalled``,
        ``exhausted`` or ``all_failed``."""
        return self.summary.get("stopped")

    @property
    def notes(self) -> list[str]:
        return list(self.summary.get("notes") or [])

    @property
    def failure_reasons(self) -> dict[str, int]:
        """Failed evaluations by reason (numbers in the message masked), commonest first."""
        counts = self.summary.get("failure_reasons") or {}
        return dict(sorted(counts.items(), key=lambda item: -item[1]))

    @property
    def n_evaluations(self) -> int:
        """Unique genomes the search evaluated or served from the persistent cache (its budget's unit)."""
        return self.summary.get("evaluations", len(self.evaluations))

    @property
    def generations(self) -> int:
        """Completed generations: the summary's for a finished run, the logbook's for one stopped
        part-way (a generation cut short by the budget is not counted)."""
        if "generations" in self.summary:
            return self.summary["generations"]
        return sum(1 for e in self.history if not e.get("partial") and e.get("asked", 1))

    @property
    def failures(self) -> int:
        return self.summary.get("failures", sum(1 for r in self.evaluations if r.get("status") != "ok"))

    @property
    def cache_hits(self) -> int:
        """Genomes served without evaluation (seen earlier in the run, or in the persistent cache)."""
        return self.history[-1]["cache_hits_total"] if self.history else 0

    def table(self, full_keys: bool = False) -> str:
        """The Pareto set as a plain-text table (what ``evo-nas pareto`` prints)."""
        from .analysis.report import front_table

        return front_table(self.pareto, self.objectives, full_keys)

    def plot(self, path=None) -> Path:
        """Write the evaluations and the Pareto set as a PNG at ``path`` (default ``RUN/pareto.png``,
        as the CLI writes it; ``evo_nas.analysis.plots``: the best value so far for one objective, the
        front's staircase for two, a pairs and a parallel-coordinates plot for more); returns the path."""
        from .analysis.plots import plot_front

        return plot_front(self.evaluations, self.pareto, self.objectives,
                          Path(path) if path is not None else self.run_dir / "pareto.png")

    def __repr__(self) -> str:
        hv = self.hypervolume
        return (f"Result(run_dir={str(self.run_dir)!r}, status={self.status!r}, "
                f"evaluations={self.n_evaluations}, "
                f"pareto={len(self.pareto)}, hypervolume={'None' if hv is None else f'{hv:.6g}'}, "
                f"objectives={list(self.objectives.names)})")


__all__ = ["search", "resume", "load_run", "Result", "apply_overrides", "read_config", "default_run_dir",
           "free_run_dir"]
