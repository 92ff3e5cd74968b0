"""The chat page's helpers without Streamlit: uploads, escaping, export, storage."""

from __future__ import annotations

import json
import re

import pytest

from rag.answer.conversations import ConversationError, ConversationStore
from rag.errors import RagError
from rag.ui.build_jobs import IndexJob, IndexJobs, JobState
from rag.ui.markdown_text import answer_markdown, highlighted_passage, md_escape
from rag.ui.messages import (
    conversation_markdown,
    error_record,
    example_questions,
    history_for_answerer,
)
from rag.ui.uploads import safe_filename, save_uploads

ARTICLE = b"A title\n\nThe harbour bridge repairs will cost two million dollars, the council said.\n"


# -- conversations -------------------------------------------------------------------


def test_conversation_store_round_trip(tmp_path):
    store = ConversationStore(tmp_path / "conv")
    cid = store.new_id()
    assert store.load(cid) == []
    messages = [{"role": "user", "content": "Hi <script>"}, {"role": "assistant", "content": "Hello [1]"}]
    store.save(cid, messages)
    assert store.load(cid) == messages
    assert sorted(p.name for p in (tmp_path / "conv").iterdir()) == [f"{cid}.json"]


@pytest.mark.parametrize("bad", ["../x", "..", "", "a" * 31, "A" * 32, "/etc/passwd", "g" * 32,
                                 "0" * 32 + "/", None, 5])
def test_conversation_ids_cannot_escape_the_folder(tmp_path, bad):
    store = ConversationStore(tmp_path)
    assert not store.is_valid_id(bad)
    with pytest.raises(ConversationError):
        store.path(bad)
    assert store.exists(bad) is False


def test_damaged_conversation_is_a_clear_error(tmp_path):
    store = ConversationStore(tmp_path)
    cid = store.new_id()
    (tmp_path / f"{cid}.json").write_text("{oops")
    with pytest.raises(ConversationError, match="start a new chat"):
        store.load(cid)
    (tmp_path / f"{cid}.json").write_text(json.dumps({"messages": "no"}))
    with pytest.raises(ConversationError):
        store.load(cid)


# -- uploads -------------------------------------------------------------------------


@pytest.mark.parametrize("name, expected", [
    ("story.txt", "story.txt"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\win.md", "win.md"),
    (".hidden.md", "hidden.md"),
    ("a/b/../c d.json", "c d.json"),
    ("ré<su>mé.html", "ré_su_mé.html"),
    ("/", None),
    ("...", None),
    (".md", None),
])
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


def test_save_uploads_accepts_good_and_explains_rejections(tmp_path):
    folder = tmp_path / "articles"
    result = save_uploads([
        ("../../outside.txt", ARTICLE),
        ("good.md", ARTICLE),
        ("bad.exe", b"MZ"),
        ("empty.txt", b""),
        ("huge.txt", b"x" * 2048),
        ("broken.jsonl", b"{nope\n"),
        (".md", ARTICLE),
    ], folder, max_bytes=1024)
    assert result.saved == ["outside.txt", "good.md"]
    reasons = dict(result.rejected)
    assert "unsupported file type .exe" in reasons["bad.exe"]
    assert reasons["empty.txt"] == "the file is empty"
    assert "over the" in reasons["huge.txt"]
    assert reasons["broken.jsonl"].startswith("no article could be read from it")
    assert "no usable characters" in reasons[".md"]
    assert sorted(p.name for p in folder.iterdir()) == ["good.md", "outside.txt"]
    assert not (tmp_path / "outside.txt").exists()


def test_save_uploads_never_overwrites_other_content(tmp_path):
    save_uploads([("a.txt", ARTICLE)], tmp_path)
    again = save_uploads([("a.txt", ARTICLE)], tmp_path)  # same bytes: nothing new
    other = save_uploads([("a.txt", ARTICLE.replace(b"two", b"three"))], tmp_path)
    assert again.saved == ["a.txt"] and other.saved == ["a-1.txt"]
    assert (tmp_path / "a.txt").read_bytes() == ARTICLE


# -- escaping and display ------------------------------------------------------------


def test_md_escape_shows_markup_literally():
    text = "<script>alert(1)</script> *bold* [link](javascript:x) $5 and $6 :red[x] # h"
    out = md_escape(text)
    for raw in ("<", "*", "[", "$", ":", "#"):
        assert re.search(r"(?<!\\)" + re.escape(raw), out) is None, raw  # every one escaped
    assert out.replace("\\", "") == text


def test_answer_markdown_links_only_valid_markers_and_neutralises_html():
    out = answer_markdown("Claim [1]. Other [3]. <img src=x onerror=alert(1)> costs $5 ![a](http://x)", "ab12", 2)
    assert "[\\[1\\]](#src-ab12-1)" in out
    assert "\\[3\\]" in out and "#src-ab12-3" not in out  # out of range: text
    assert "\\<img" in out and "onerror=alert(1)\\>" in out
    assert re.search(r"(?<!\\)[<>$]", out) is None
    assert re.search(r"(?<!\\)!", out) is None  # no image: "!" is text


def test_highlighted_passage_marks_the_quote():
    passage = "First sentence here. The cited <b>claim</b> is this one. Last sentence."
    body, found = highlighted_passage(passage, "The cited <b>claim</b> is this one.")
    assert found
    assert body.startswith("First sentence here\\. :orange-background[The cited \\<b\\>claim")
    assert body.endswith("] Last sentence\\.")
    body, found = highlighted_passage(passage, "not in it at all, nowhere")
    assert not found and "orange-background" not in body


def test_example_questions_are_deterministic_and_short():
    titles = ["Ukraine’s backers want talks with Putin – Bloomberg", "Tiny", "x" * 200,
              "Ukraine’s backers want talks with Putin – Bloomberg"]
    out = example_questions(titles, 3)
    assert out[0] == "What do the articles say about “Ukraine’s backers want talks with Putin”?"
    assert len(out) == 2 and len(out[1]) < 140
    assert example_questions(titles, 3) == out


def test_history_skips_failed_turns():
    messages = [
        {"role": "user", "content": "q1", "standalone": "q1"},
        {"role": "assistant", "content": "a1 [1]"},
        {"role": "user", "content": "q2"},
        {"role": "assistant", "error": True, "content": "server down"},
    ]
    assert history_for_answerer(messages) == [
        {"role": "user", "content": "q1", "standalone": "q1"}, {"role": "assistant", "content": "a1 [1]"}]


@pytest.mark.parametrize("text, shown", [
    ("the embedding server returned 17-dimensional vectors; rebuild with `rag index build --full`",
     "The embedding server returned 17-dimensional vectors; rebuild with `rag index build --full`."),
    ("Could not connect to the chat server. Start it.", "Could not connect to the chat server. Start it."),
    ("Is it down?", "Is it down?"),
    ("  ", "The answer failed; try again."),
])
def test_error_record_reads_as_a_sentence(text, shown):
    record = error_record("ab12", text)
    assert record == {"role": "assistant", "id": "ab12", "error": True, "content": shown}


def test_conversation_markdown_has_answers_and_sources():
    messages = [
        {"role": "user", "content": "What happened?"},
        {"role": "assistant", "content": "Repairs were approved [1].", "backend": "extractive",
         "model": "extractive", "citations": [
             {"n": 1, "title": "Bridge", "source": "Gazette", "published_at": "2024-03-05T09:00:00+00:00",
              "url": "https://example.org/b", "quote": "Repairs were approved."}]},
    ]
    md = conversation_markdown(messages, title="Chat")
    assert "## Q: What happened?" in md
    assert "Repairs were approved [1]." in md  # read raw: no backslashes where nothing needs one
    assert "1. Bridge (Gazette · 5 Mar 2024) <https://example.org/b>" in md
    assert "> Repairs were approved." in md
    assert "\\" not in md


def test_conversation_markdown_escapes_only_what_would_change_the_text():
    messages = [
        {"role": "user", "content": "Did AT&T's 2.5% rise beat Wall St. (again)? See <b>this</b> & *that*"},
        {"role": "assistant", "content": "Yes [1]: shares rose 2.5% to $10, up from $9.", "backend": "extractive",
         "citations": [{"n": 1, "title": "- AT&T beats Wall St. | Markets", "source": "Wire",
                        "url": "https://example.org/t", "quote": "Shares rose 2.5%."}]},
    ]
    md = conversation_markdown(messages, title="Chat")
    assert "## Q: Did AT&T's 2.5% rise beat Wall St. (again)? See \\<b>this\\</b> & \\*that\\*" in md
    assert "Yes [1]: shares rose 2.5% to \\$10, up from \\$9." in md  # two "$" could open a formula
    assert "1. \\- AT&T beats Wall St. | Markets (Wire) <https://example.org/t>" in md  # no nested list


# -- background builds ----------------------------------------------------------------


def test_build_progress_is_one_immutable_value_swapped_whole():
    import dataclasses
    import threading

    job = IndexJob(id=1, kind="rebuild")
    before = job.state
    with pytest.raises(dataclasses.FrozenInstanceError):
        before.done = 3  # type: ignore[misc]
    # A writer thread reports (stage, n, n) pairs; every state a reader takes
    # must be one whole report, never a stage with another report's counts.
    stop, torn = threading.Event(), []

    def write():
        for i in range(1, 20001):
            job.progress(f"stage-{i}", i, i)
        stop.set()

    def read():
        while not stop.is_set():
            state = job.state
            if not (state.done == state.total and state.stage in ("starting", f"stage-{state.done}")):
                torn.append(state)

    threads = [threading.Thread(target=write), threading.Thread(target=read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not torn, torn[:3]
    assert before == JobState() and job.state.done == 20000
    job.finish(report={"articles": 1})
    assert not job.state.running and job.state.report == {"articles": 1} and job.state.fraction == 1.0


def test_visitors_cannot_start_a_build(settings):
    with pytest.raises(RagError, match="admin = false"):
        IndexJobs().start(settings, "rebuild", admin=False)
