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

import functools
import json
from pathlib import Path

from .engine.naming import claimed_top, default_run_dir, free_run_dir, release
from .schema.reader import apply_overrides, config_names, config_path, read_config


def search(config, run_dir=None, *, verbose: bool = False, claimed: bool = False, **overrides) -> "Result":
    """Run a search and return its ``Result``.

    ``config``: a dict or the path of a TOML file (relative data and space paths then resolve
    from the file's folder, as with ``evo-nas search``). ``run_dir``: a new directory (default
    ``default_run_dir``); one that holds a run is refused (``FileExistsError``). ``verbose``:
    a progress bar on stderr. ``claimed``: ``run_dir`` is an empty directory made for this search
    (``free_run_dir(..., claim=True)``), removed again if it fails before its first evaluation.
    ``overrides``: see the module docstring. Configuration errors are
    ``ValueError``s naming the bad key and value, raised before anything is written."""
    try:
        config, source = read_config(config)
        config = apply_overrides(config, overrides)
    except BaseException:
        if claimed and run_dir is not None:  # a missing or malformed config file leaves no empty run dir
            release(run_dir)
        raise
    if source is not None:
        search_section = config.setdefault("search", {})
        if isinstance(search_section, dict):
            search_section.setdefault("base_dir", str(source.resolve().parent))
    claimed = run_dir is None or claimed
    run_dir = Path(run_dir) if run_dir is not None else default_run_dir(config, source, claim=True)
    made = claimed_top(run_dir) if claimed else None
    return _run(config, run_dir, resume=False, verbose=verbose, claimed=made)


def resume(run_dir, config=None, *, verbose: bool = False, rebuild: bool = False, **overrides) -> "Result":
    """Continue the run in ``run_dir`` from its last checkpoint and return its ``Result``.

    The search state is rebuilt by replaying the seeded search over the run's records, checked
    against its checkpoint and logbook (a ``ValueError`` of one line when they disagree).
    ``rebuild=True`` replays over whatever records the run holds without those checks (what is
    missing is evaluated again): the way to resume a run of an older evo-nas (``checkpoint.pkl``).

    ``config`` (dict or TOML path; default: the run's ``config.json``) and ``overrides`` may
    change how the search executes (``[search] n_jobs``, ``backend``, ``scheduler``,
    ``threads_per_worker``, ``cache``, ``base_dir``) and raise its budget (``generations``,
    ``max_evaluations``): ``resume(run, search={"generations": 30})`` continues a run that finished
    at 20 to the same records, Pareto set and hypervolume as a run of 30 from the start, and
    ``config.json`` keeps the new budget. A lower budget, or any other difference, is a
    ``ValueError`` naming the key, raised before the run's files are touched."""
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
           "free_run_dir", "config_names", "config_path"]
