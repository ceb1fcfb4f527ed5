"""The engine's loop: one generation's ask, serve, evaluate and tell, with its counters, checkpoints and resume.

DEAP's ``eaMuPlusLambda`` evaluates only individuals without a fitness, through one pluggable
``map``; pymoo's ask/tell lets the caller own the loop. ``Engine`` does both for any ``Strategy``
(NSGA-II, Deb et al., 2002; the baselines): per generation it asks, serves genomes already seen
in this run or in the persistent cache, evaluates only new ones through the evaluation service
(``evo_nas.problems.service``: worker pool, serial latency, records, cache), appends every
evaluation to the run, tells the strategy, logs the generation (hypervolume over every
evaluation so far) and checkpoints; what is counted of the run's records is its ``Tally``
(``evo_nas.engine.tally``). The budget is counted in unique evaluations; cache hits are
free.

The problem (``[problem] name``, ``evo_nas.problems``) decides how a generation is scored: a
batch problem (a predictor, a table) in one call in this process, an expensive one (training,
measuring) one genome per worker task. A strategy that asks in gene arrays and a problem that
scores them in columns (NSGA-II on Once-for-All) go without genome objects: keys, records and
their JSON lines are built column by column (``evo_nas.engine.columns``), so the engine costs
little beside the search itself.

A result served from the persistent cache costs nothing to compute but counts as an evaluation
of the run, so a warm run follows the same path as a cold one and ends with the same Pareto set.
A resumed run rebuilds its search state by replaying the seeded search over the run's own records
(nothing recorded is evaluated again); its data-only checkpoint (``evo_nas.engine.checkpoint``)
binds the replay to the run: a foreign checkpoint, missing or changed records and a replay that
departs from the recorded logbook are refused with one line.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..algorithms.objectives import Objectives
from ..algorithms.strategy import make_strategy
from ..base.files import from_base
from ..problems import Problem, make_problem
from ..problems.service import EvaluationService
from .cache import EvalCache
from .checkpoint import Resume, config_hash, prepare_resume
from .columns import Asked, GeneRows, evaluate_columns
from .run import RunDir
from .settings import SearchSettings
from .tally import Tally

# a batch problem's checkpoints are at least this many seconds apart (unless forced)
CHECKPOINT_S = 1.0


class Engine:
    """A search in progress over ``run``: see the module docstring."""

    def __init__(self, config: dict, run: RunDir, evaluator, quiet: bool, problem: Problem | None = None):
        self.config = config
        self.run = run
        self.settings = SearchSettings.from_config(config)
        self.problem: Problem = problem if problem is not None else make_problem(config)
        self.objectives = Objectives.from_dict(config["objectives"], self.problem, config.get("constraints"))
        self.space = self.problem.space
        self.fingerprint = self.problem.fingerprint()
        self.evaluator = evaluator
        self.quiet = quiet
        self.say: Callable[[str], None] = (lambda text: None) if quiet else (lambda text: print(text, file=sys.stderr))
        self.seed = config["seed"]
        self.config_hash = config_hash(config)
        self.strategy = make_strategy(self.settings.algorithm, self.space, config["search"],
                                      self.objectives, np.random.default_rng(self.seed), problem=self.problem)
        cache = self.settings.cache
        if cache is False or cache is None and self.problem.batch:
            # a batch problem scores a genome faster than the cache can look it up: no default cache
            self.cache = None
        else:
            if cache is None:  # beside the run directory, wherever the config is
                path = run.path.parent.absolute() / "evo-nas-cache.sqlite"
            else:  # a relative path given in the config is read from the config's folder
                path = Path(from_base(cache, self.settings.base_dir))
            self.cache = EvalCache(path)
        # every record of the run by key, and what is counted of them (records not yet counted wait
        # in ``tally.replay`` by generation)
        self.tally = Tally(self.objectives, {r["key"]: r for r in run.evaluations()})
        s = self.settings
        self.service = EvaluationService(self.problem, self.objectives.names, write=run.append_evaluations,
                                         account=self.tally.account, evaluator=evaluator, cache=self.cache,
                                         n_jobs=s.n_jobs, backend=s.backend, scheduler=s.scheduler,
                                         threads=s.threads_per_worker, say=lambda text: self.say(text))
        # genes of the records built from columns, which hold none in memory: a list would make each
        # of them a container the garbage collector tracks (the Pareto set's records get theirs back)
        self.genes_of = GeneRows(self.space.n_genes, max(self.space.cardinalities, default=1))
        self.logbook: list[dict] = []
        self._unwritten: list[dict] = []  # logbook entries not yet in logbook.jsonl
        self._on_disk = 0  # entries of logbook.jsonl that self.logbook's first ones are
        self.resume = Resume()  # what the replay of a resumed run must find and reproduce
        self.generation = 0
        self.stall = 0
        self._last_checkpoint = 0.0
        self._saved: tuple[int, int] | None = None
        self.exhausted = False
        self.tally.settle(0)

    # -- bookkeeping --------------------------------------------------------------------
    def with_genes(self, rec: dict) -> dict:
        """``rec`` as written to the run: a record built from columns gets its genes back."""
        if "genes" not in rec:
            rec["genes"] = self.genes_of[rec["key"]]
        return rec

    def restore(self, rebuild: bool = False, grown: bool = False) -> None:
        """Prepare a resumed run, whose state the replay rebuilds (``checkpoint.prepare_resume``: the
        checks of its checkpoint and records; ``rebuild`` skips them). ``grown``: the budget is larger
        than the run's, so a last generation its budget cut short (``partial``) is played in full
        rather than reproduced."""
        self.resume = prepare_resume(self.run, self.tally.memo, self.config_hash, self.fingerprint, rebuild, self.say)
        self._on_disk = len(self.resume.recorded)
        while grown and self.resume.recorded and self.resume.recorded[-1].get("partial"):
            self.resume.recorded.pop()

    def replayed(self) -> bool:
        """Whether the replay has reproduced every recorded generation (a new run: at once)."""
        return len(self.logbook) >= len(self.resume.recorded)

    def finish_pending(self) -> None:
        """Evaluations a kill left without their serial latency get it now."""
        pending = [r for r in self.tally.memo.values() if r.get("latency_pending")]
        if pending:
            self.service.measure_pending(pending)

    def log(self, entry: dict) -> None:
        """Add a generation's logbook entry; it reaches ``logbook.jsonl`` with the next checkpoint.
        A replayed generation must reproduce the recorded entry, which is kept (timings included)."""
        if len(self.logbook) < len(self.resume.recorded):
            self.logbook.append(self.resume.verified(len(self.logbook), entry))
            return
        self.logbook.append(entry)
        self._unwritten.append(entry)

    def write_logbook(self, final: bool = False) -> None:
        """Append the logbook entries not yet written, fsynced; ``final``: also drop recorded entries
        beyond the end of the run (a replay that stopped before reaching them)."""
        if self._on_disk != len(self.logbook) - len(self._unwritten) and (self._unwritten or final):
            self.run.rewrite_logbook(self.logbook)
        elif self._unwritten:
            self.run.append_logbook(self._unwritten)
        else:
            return
        self._unwritten = []
        self._on_disk = len(self.logbook)

    def checkpoint(self, force: bool = False) -> None:
        """Save the logbook and then the position (``checkpoint.json``, data only): every generation
        of an expensive problem, at most once per ``CHECKPOINT_S`` of a batch problem unless
        ``force``d, never while replaying recorded generations (a resume replays from the records)."""
        now = time.perf_counter()
        position = (self.generation, len(self.logbook))
        if position == self._saved or not force and (self.problem.batch and now - self._last_checkpoint < CHECKPOINT_S
                                                     or len(self.logbook) < len(self.resume.recorded)):
            return
        self._last_checkpoint, self._saved = now, position
        self.write_logbook(final=force)
        self.run.save_checkpoint({"generation": self.generation, "logbook": len(self.logbook),
                                  "evaluations": self.tally.n_evaluated, "stall": self.stall,
                                  "exhausted": self.exhausted, "config_hash": self.config_hash,
                                  "fingerprint": self.fingerprint, "seed": self.seed,
                                  "algorithm": self.settings.algorithm})

    def stop_reason(self) -> str | None:
        s = self.settings
        if s.generations is not None and self.generation >= s.generations:
            return "generations"
        if s.max_evaluations is not None and self.tally.n_evaluated >= s.max_evaluations:
            return "max_evaluations"
        if self.stall >= s.max_stall:
            return "stalled"
        if self.exhausted:
            return "exhausted"
        return None

    # -- one generation -----------------------------------------------------------------
    def ask(self) -> Asked:
        ask_array = getattr(self.strategy, "ask_array", None)
        if ask_array is not None:
            return Asked(self.space, X=ask_array())
        return Asked(self.space, genomes=self.strategy.ask())

    def step(self) -> tuple[str | None, dict]:
        """One ask/evaluate/tell round; returns (a stop reason or None, the logbook entry)."""
        t_start = time.perf_counter()
        gen = self.generation
        asked = self.ask()
        if not len(asked):
            self.exhausted = True
            return "exhausted", self._stats({"generation": gen, "asked": 0, "evaluated": 0, "cache_hits": 0,
                                             "failures": 0}, 0.0, t_start)
        keys = asked.keys
        memo = self.tally.memo
        new_keys: dict[str, int | None] = {}  # key -> its row to evaluate, None when on record
        hits = 0
        evaluated = 0
        replayed = set(self.tally.replay.get(gen, ()))
        served = []
        for i, key in enumerate(keys):
            if key in new_keys:
                continue
            rec = memo.get(key)
            if rec is not None:
                if key in replayed and not rec.get("cached"):
                    evaluated += 1  # first evaluated in this generation, before a kill
                else:
                    hits += 1
                new_keys[key] = None
                continue
            new_keys[key] = i
        todo = [i for i in new_keys.values() if i is not None]
        if self.cache is not None and todo:
            found = self.service.lookup([keys[i] for i in todo])
            for i in todo:
                if keys[i] in found:
                    served.append(self.service.record(keys[i], asked.genes(i), {**found[keys[i]], "eval_s": 0.0}, gen,
                                                      cached=True))
            todo = [i for i in todo if keys[i] not in found]

        truncated = False
        if self.settings.max_evaluations is not None:
            remaining = self.settings.max_evaluations - self.tally.n_evaluated - len(replayed - self.tally.counted)
            if len(served) > remaining:
                served, todo, truncated = served[:max(remaining, 0)], [], True
            elif len(served) + len(todo) > remaining:
                todo, truncated = todo[:remaining - len(served)], True
        if gen < self.resume.bound and (todo or served):
            self.resume.missing(gen, keys[todo[0]] if todo else served[0]["key"], len(todo) + len(served))
        self.service.commit(served, store=False)
        hits += len(served)
        evaluated += len(todo)
        fresh = evaluated + len(served) + sum(1 for k in replayed if memo[k].get("cached"))

        t_eval = time.perf_counter()
        failures_before = self.tally.n_failed
        self.evaluate(asked, todo, gen)
        eval_s = time.perf_counter() - t_eval
        self.tally.release(self.tally.replay.pop(gen, ()))

        entry = {"generation": gen, "asked": len(asked), "evaluated": evaluated, "cache_hits": hits,
                 "failures": self.tally.n_failed - failures_before}
        if truncated:
            entry["partial"] = True
            return "max_evaluations", self._stats(entry, eval_s, t_start)
        results = [memo[k] for k in keys]
        if asked.X is not None:
            self.strategy.tell_array(results)
        else:
            self.strategy.tell(asked._genomes, results)
        self.generation += 1
        self.stall = 0 if fresh else self.stall + 1
        if evaluated >= 2 and not any(memo[k]["status"] == "ok" for k in new_keys):
            entry["all_failed"] = True
        return None, self._stats(entry, eval_s, t_start)

    def evaluate(self, asked: Asked, todo: list[int], gen: int) -> None:
        """Evaluate the rows ``todo`` of ``asked``, then record, append and count them."""
        if not todo:
            return
        if asked.X is not None and self.problem.batch and self.evaluator is None and \
                self.problem.latency_model() is None and \
                evaluate_columns(self.service, asked, todo, gen, self.genes_of, self.commit_built):
            return
        self.service.evaluate([asked.genome(i) for i in todo], gen)

    def commit_built(self, records: list[dict], text: str) -> None:
        """``EvaluationService.commit`` of records built from columns, already written as JSON lines
        ``text``: new keys, every one ok, none cached or pending."""
        self.run.append_evaluations(records, text)
        self.tally.account_new(records)
        self.service.store(records)

    def _stats(self, entry: dict, eval_s: float, t_start: float) -> dict:
        entry["evaluations"] = self.tally.n_evaluated
        entry["cache_hits_total"] = entry["cache_hits"] + (self.logbook[-1]["cache_hits_total"] if self.logbook else 0)
        entry["failures_total"] = self.tally.n_failed
        entry["front_size"] = len(self.tally.archive.front)
        entry["hypervolume"] = self.tally.archive.hypervolume()
        for name, v in self.tally.best.items():
            entry[f"best_{name}"] = v
        entry["eval_s"] = eval_s
        entry["wall_s"] = time.perf_counter() - t_start
        return entry

