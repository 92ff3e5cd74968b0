"""A build killed with SIGKILL at many deterministic points never loses the index.

How the kill points are made, with no hook in the library: a driver process
imports the library once and then forks one child per kill point. The child
installs ``sys.setprofile`` and counts every call of a function whose code
lives in the ``rag`` package, plus the C calls that publish (``os.rename``,
``os.replace``, ``os.fsync``); at call number N it sends itself SIGKILL. A
first child runs the whole build and records, for every counted call, the
function and the stage the build reported through its (public) progress
callback, so the points can be spread over loading, chunking, embedding and
publishing. Each killed child records the function it died in; the test checks
that it is the one the counting run saw at N (the counts are deterministic).

After each kill: the index opens (every file's sha256 is checked), it is the
old version or the new one as a whole (articles, counts, a term only the new
articles have, and the text of the edited article all agree), and the next
build completes with the right counts and leaves no temporary folders.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rag.config import load_settings
from rag.index.building import build_index
from rag.index.embedded.store import IndexStore
from rag.search.open_index import open_index
from tests.conftest import REPO, write_article

pytestmark = pytest.mark.slow  # dozens of killed builds: run with -m slow (.ci/run does)

STAGES = ("loading", "chunking", "embedding", "publishing")
NEW_TERM = "quokkafest"
PER_STAGE = 7

DRIVER = textwrap.dedent('''
    import json, os, shutil, signal, sys
    import rag, rag.index.embedded.manifest, rag.ingest.sentences
    from rag.config import load_settings
    from rag.index.building import build_index

    cfg = json.loads(sys.argv[1])
    RAG_DIR = os.path.dirname(os.path.abspath(rag.__file__)) + os.sep
    WATCHED = {os.rename: "os.rename", os.replace: "os.replace", os.fsync: "os.fsync"}

    def child(index_dir, limit, record_to, killed_to):
        stage = ["loading"]
        labels, stages = [], []
        count = 0

        def progress(name, done, total):
            stage[0] = name

        def prof(frame, event, arg):
            nonlocal count
            if event == "call":
                if not frame.f_code.co_filename.startswith(RAG_DIR):
                    return
                label = frame.f_code.co_name
            elif event == "c_call":
                label = WATCHED.get(arg) if callable(arg) else None
                if label is None:
                    return
            else:
                return
            count += 1
            if record_to:
                labels.append(label)
                stages.append(stage[0])
            if count == limit:
                with open(killed_to, "w") as fh:
                    fh.write(json.dumps([label, stage[0]]))
                os.kill(os.getpid(), signal.SIGKILL)

        settings = load_settings(index_dir=index_dir, embedding={"backend": "hashing"},
                                 chunking=cfg["chunking"])
        sys.setprofile(prof)
        report = build_index(settings, [cfg["articles"]], progress=progress, exact=True)  # the new corpus replaces the old
        sys.setprofile(None)
        if record_to:
            with open(record_to, "w") as fh:
                json.dump({"labels": labels, "stages": stages, "added": report.added}, fh)

    def run(index_dir, limit, record_to=None, killed_to=None):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                child(index_dir, limit, record_to, killed_to)
            except BaseException as exc:
                print("child failed:", repr(exc), file=sys.stderr, flush=True)
                code = 3
            os._exit(code)
        return pid

    def status(raw):
        return -os.WTERMSIG(raw) if os.WIFSIGNALED(raw) else os.WEXITSTATUS(raw)

    if cfg["mode"] == "count":
        index = os.path.join(cfg["work"], "count", "index")
        shutil.copytree(cfg["template"], index)
        _, raw = os.waitpid(run(index, -1, record_to=cfg["record"]), 0)
        print(json.dumps({"status": status(raw)}))
    else:
        running, results = {}, {}
        for n in cfg["points"]:
            folder = os.path.join(cfg["work"], f"p{n}")
            shutil.copytree(cfg["template"], os.path.join(folder, "index"))
            if len(running) >= cfg["parallel"]:
                pid, raw = os.wait()
                results[running.pop(pid)] = status(raw)
            running[run(os.path.join(folder, "index"), n, killed_to=os.path.join(folder, "killed"))] = n
        while running:
            pid, raw = os.wait()
            results[running.pop(pid)] = status(raw)
        print(json.dumps(results))
''')

PARAGRAPHS = [
    "The council met on {day} to discuss the harbour budget for {topic}. Members argued for an hour.",
    "Residents said the plan for {topic} was late. The mayor promised a decision by the end of the month.",
    "Engineers reported that the {topic} works were on schedule. Costs rose by four percent this year.",
    "Critics of the {topic} scheme asked for an independent review. The review board agreed to meet.",
]


def _article_text(i: int, extra: str = "") -> str:
    topic = f"project{i}"
    return "\n\n".join(p.format(day=f"day {i}", topic=topic) for p in PARAGRAPHS) + extra


def _write_corpus(folder: Path, ids: range, *, edited: int | None = None, term_in: set[int] = frozenset()) -> None:
    folder.mkdir(parents=True)
    for i in ids:
        extra = f"\n\nA late correction about project{i} was added." if i == edited else ""
        if i in term_in:
            extra += f"\n\nThe {NEW_TERM} festival drew a record crowd to the project{i} site."
        body = _article_text(i, extra)
        if i % 3 == 0:
            (folder / f"a{i:02d}.json").write_text(json.dumps(
                {"title": f"Story {i}", "body": body, "source": "Wire", "url": f"https://example.org/{i}"}))
        elif i % 3 == 1:
            (folder / f"a{i:02d}.txt").write_text(f"Story {i}\n\n{body}\n")
        else:
            write_article(folder, f"a{i:02d}.md", f"Story {i}", body, source="Herald",
                          published_at=f"2023-10-{i:02d}", url=f"https://example.org/{i}")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """Old corpus: articles 1-10. New corpus: 2-10 (6 edited) plus 11-13, which alone hold NEW_TERM."""
    root = tmp_path_factory.mktemp("kill")
    old_dir, new_dir = root / "old", root / "new"
    _write_corpus(old_dir, range(1, 11))
    _write_corpus(new_dir, range(2, 14), edited=6, term_in={11, 12, 13})
    chunking = {"max_tokens": 48, "overlap_tokens": 8}

    def settings_for(index):
        return load_settings(index_dir=index, embedding={"backend": "hashing"}, chunking=chunking)

    template = root / "template"
    build_index(settings_for(template), [old_dir])
    reference = root / "reference"
    build_index(settings_for(reference), [new_dir])
    counts = {name: IndexStore(folder).info()["counts"] for name, folder in
              (("old", template), ("new", reference))}
    assert counts["old"] != counts["new"]
    return {"root": root, "old_dir": old_dir, "new_dir": new_dir, "template": template,
            "chunking": chunking, "settings_for": settings_for, "counts": counts}


def _driver(scenario, **cfg) -> dict:
    cfg = {"articles": str(scenario["new_dir"]), "template": str(scenario["template"]),
           "chunking": scenario["chunking"], **cfg}
    env = {**os.environ, "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(cfg)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _pick_points(labels: list[str], stages: list[str]) -> dict[int, str]:
    """Call numbers (1-based) spread evenly over each stage, plus every step of publishing."""
    points: dict[int, str] = {}
    for stage in STAGES:
        calls = [n for n, s in enumerate(stages, start=1) if s == stage]
        assert len(calls) >= PER_STAGE, (stage, len(calls))
        for j in range(PER_STAGE):
            points[calls[round(j * (len(calls) - 1) / (PER_STAGE - 1))]] = stage
    # Around the atomic swap: before/after the rename of the work folder and
    # of CURRENT, the first and last fsync, the clean-up, and the very last call.
    named = {label: [n for n, x in enumerate(labels, start=1) if x == label]
             for label in ("os.rename", "os.replace", "os.fsync", "write_manifest", "clean", "published_name")}
    for label, calls in named.items():
        assert calls, f"the build never called {label}"
        for n in {calls[0], calls[-1], calls[-1] + 1}:
            if n <= len(labels):
                points[n] = "publishing"
    points[len(labels)] = "publishing"
    return points


def test_killed_builds_leave_old_or_new_index_and_next_build_completes(scenario, tmp_path):
    record = tmp_path / "record.json"
    counted = _driver(scenario, mode="count", work=str(tmp_path), record=str(record))
    assert counted == {"status": 0}
    recorded = json.loads(record.read_text())
    labels, stages = recorded["labels"], recorded["stages"]
    assert recorded["added"] == 3
    points = _pick_points(labels, stages)
    assert len(points) >= 24
    assert {stage for stage in points.values()} == set(STAGES)

    results = _driver(scenario, mode="kill", work=str(tmp_path), points=sorted(points), parallel=2)
    settings_for, counts = scenario["settings_for"], scenario["counts"]
    old_ids = {a for a in _article_ids(scenario["template"])}
    outcomes = {"old": 0, "new": 0}
    for n in sorted(points):
        where = f"killed at call {n} of {len(labels)} ({labels[n - 1]}, {stages[n - 1]})"
        assert results[str(n)] == -9, f"{where}: the child was not killed ({results[str(n)]})"
        folder = tmp_path / f"p{n}"
        assert json.loads((folder / "killed").read_text()) == [labels[n - 1], stages[n - 1]], where
        settings = settings_for(folder / "index")
        version = _check_whole_version(settings, counts, old_ids, where)
        outcomes[version] += 1
        report = build_index(settings, [scenario["new_dir"]], exact=True)
        expected = (3, 1, 1, 8) if version == "old" else (0, 0, 0, 12)
        got = (report.added, report.updated, report.removed, report.unchanged)
        assert got == expected, where
        assert (report.articles, report.passages) == (12, counts["new"]["passages"]), where
        assert (report.embedded_passages == 0) == (version == "new"), where
        assert _check_whole_version(settings, counts, old_ids, where) == "new"
        names = sorted(p.name for p in (folder / "index").iterdir())
        assert not [x for x in names if x.startswith(".tmp-")], (where, names)
        assert len([x for x in names if x.startswith("v-")]) <= 2, (where, names)
    # The points cover both outcomes: kills before the swap keep the old index,
    # kills after it (clean-up) leave the new one.
    assert outcomes["old"] >= 20 and outcomes["new"] >= 2, outcomes


def _article_ids(index: Path) -> set[str]:
    snap = IndexStore(index).open()
    try:
        return {r[0] for r in snap.db.execute("SELECT id FROM articles")}
    finally:
        snap.close()


def _check_whole_version(settings, counts, old_ids, where) -> str:
    """Open (sha256-checked) and tell which version it is; fail on any mix."""
    opened = open_index(settings)
    try:
        snap = opened.snapshot
        got = snap.manifest["counts"]
        assert got in (counts["old"], counts["new"]), where
        version = "new" if got == counts["new"] else "old"
        ids = {r[0] for r in snap.db.execute("SELECT id FROM articles")}
        assert (ids == old_ids) == (version == "old"), where
        assert snap.db.execute("SELECT count(*) FROM passages").fetchone()[0] == got["passages"] == len(snap)
        hits = opened.retriever.search(f"{NEW_TERM} festival crowd", 5)
        assert hits, where
        assert any(NEW_TERM in p.text for p in hits) == (version == "new"), where
        corrected = [r[0] for r in snap.db.execute("SELECT body FROM articles WHERE title = 'Story 6'")]
        assert len(corrected) == 1 and ("late correction" in corrected[0]) == (version == "new"), where
        for p in hits:  # every passage returned belongs to this version's articles
            assert snap.article(p.article_id) is not None, where
        return version
    finally:
        opened.close()
