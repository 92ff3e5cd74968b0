"""The Streamlit chat over the indexed articles: ``streamlit run ui/app.py``.

Thin by design (DESIGN.md): answers come from :class:`rag.answer.Answerer`,
the index from :mod:`rag.indexing`, conversations from
:mod:`rag.conversations`; this file wires them to widgets. Helpers without
Streamlit live in ``ui/state.py``, drawing helpers in ``ui/components.py``.
Settings come from ``rag.toml`` and ``RAG_*`` environment variables like the
CLI; the sidebar overrides the chat backend and search knobs per session.
"""

from __future__ import annotations

import logging
import secrets
import sys
from datetime import date
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run ui/app.py` puts ui/ first, not the repo root
    sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402

from rag.config import EmbeddingSettings, LLMSettings, Settings, load_settings  # noqa: E402
from rag.conversations import ConversationStore  # noqa: E402
from rag.errors import IndexMissingError, RagError  # noqa: E402
from ui import components as ui  # noqa: E402
from ui.state import (  # noqa: E402
    BACKENDS,
    MAX_UPLOAD_BYTES,
    UPLOAD_SUFFIXES,
    IndexJobs,
    answer_record,
    backend_choice,
    backend_label,
    conversation_markdown,
    endpoint_of,
    example_questions,
    format_date,
    history_for_answerer,
    llm_overrides,
    md_escape,
    save_uploads,
    session_key_env,
    settings_with,
)

log = logging.getLogger("article_rag.ui")
ss = st.session_state


# -- shared resources (one per server process, keyed by settings) --------------------


@st.cache_resource(show_spinner=False)
def index_jobs(index_dir: str) -> IndexJobs:
    """The background build of one index folder, shared by every session."""
    return IndexJobs()


@st.cache_resource(max_entries=3, show_spinner="Loading the embedding model…")
def cached_embedder(embedding_json: str):
    from rag.embedders import make_embedder

    return make_embedder(EmbeddingSettings.model_validate_json(embedding_json))


@st.cache_resource(max_entries=3, show_spinner="Opening the index…")
def cached_index(version: str, index_dir: str, embedding_json: str, settings_json: str):
    """The opened index for one published version: a rebuild publishes a new
    version name, so the next run of every session opens the new one."""
    from rag.indexing import open_index

    settings = Settings.model_validate_json(settings_json)
    return open_index(settings, embedder=cached_embedder(embedding_json))


@st.cache_resource(max_entries=4, show_spinner="Loading the chat model…")
def cached_chat_model(llm_json: str):
    from rag.llms import make_chat_model

    return make_chat_model(LLMSettings.model_validate_json(llm_json))


# -- settings ------------------------------------------------------------------------


def init_session(base: Settings) -> None:
    """Widget defaults from the configured settings, once per session."""
    if "llm_choice" not in ss:
        ss.llm_choice = backend_choice(base)
        ss.llm_base_url = base.llm.base_url or ""
        ss[f"llm_model_{ss.llm_choice}"] = base.llm.model or ""
        ss.k = int(base.answer.passages)
        ss.upload_gen = 0
    # Keep what was typed for a backend while its fields are hidden (Streamlit
    # forgets the state of widgets that are not drawn in a run).
    for key in ("llm_base_url", *(f"llm_model_{name}" for name in BACKENDS)):
        if key in ss:
            ss[key] = ss[key]


def effective_settings(base: Settings, jobs: IndexJobs) -> Settings:
    """This session's settings: configured ones plus the sidebar's choices."""
    llm = llm_overrides(ss.llm_choice, ss.get("llm_base_url"), ss.get(f"llm_model_{ss.llm_choice}"))
    embedding = jobs.embedding or base.embedding.model_dump()
    return settings_with(base, llm=llm, answer={"passages": int(ss.get("k", base.answer.passages))},
                         embedding=embedding)


def chat_model(settings: Settings):
    """The chat model for this session; a typed API key makes a private one."""
    key: SecretStr | None = ss.get("_api_key")
    if key is None or settings.llm.backend != "openai":
        return cached_chat_model(settings.llm.model_dump_json())
    fingerprint = settings.llm.model_dump_json()
    held = ss.get("_keyed_model")
    if held and held[0] == fingerprint:
        return held[1]
    from rag.llms import make_chat_model

    with session_key_env(key.get_secret_value()) as env_name:
        model = make_chat_model(settings.llm.model_copy(update={"api_key_env": env_name}))
    ss._keyed_model = (fingerprint, model)
    return model


def open_current_index(settings: Settings):
    """(opened index, None) or (None, message)."""
    from rag.store import IndexStore

    try:
        version = IndexStore(settings.index_dir).current_folder().name
        scope = settings.model_dump(include={"index_dir", "embedding", "retrieval", "chunking"})
        return cached_index(version, str(settings.index_dir), settings.embedding.model_dump_json(),
                            Settings.model_validate(scope).model_dump_json()), None
    except IndexMissingError:
        return None, "missing"
    except RagError as exc:
        return None, str(exc)


# -- conversation --------------------------------------------------------------------


def conversation_store(settings: Settings) -> ConversationStore:
    return ConversationStore(Path(settings.index_dir) / "conversations")


def load_conversation(store: ConversationStore) -> None:
    """Messages for the id in the URL (``?c=``), loaded once per id."""
    cid = st.query_params.get("c")
    if ss.get("cid") == cid and "messages" in ss:
        return
    if not store.is_valid_id(cid):
        cid = store.new_id()
        st.query_params["c"] = cid
        ss.messages = []
    else:
        try:
            ss.messages = store.load(cid)
        except RagError as exc:
            ss.messages = []
            ss.notice = str(exc)
    ss.cid = cid


def new_chat() -> None:
    cid = ConversationStore.new_id()
    st.query_params["c"] = cid
    ss.cid = cid
    ss.messages = []
    ss.pop("pending_question", None)


def pick_example(question: str) -> None:
    ss.pending_question = question


# -- sidebar -------------------------------------------------------------------------


def sidebar(base: Settings, settings: Settings, opened, index_problem: str | None, jobs: IndexJobs) -> None:
    with st.sidebar:
        cols = st.columns(2)
        cols[0].button("New chat", icon=":material/add_comment:", on_click=new_chat,
                       use_container_width=True, key="new_chat")
        cols[1].download_button(
            "Download", data=conversation_markdown(ss.messages, title="Article Q&A conversation"),
            file_name=f"conversation-{ss.cid[:8]}.md", mime="text/markdown", icon=":material/download:",
            disabled=not ss.messages, use_container_width=True, key="download")

        st.markdown("### Index")
        index_section(base, settings, opened, index_problem, jobs)
        st.markdown("### Add articles")
        upload_section(settings, jobs)
        st.markdown("### Model")
        model_section(settings)
        st.markdown("### Search")
        search_section(opened)


def index_section(base: Settings, settings: Settings, opened, problem: str | None, jobs: IndexJobs) -> None:
    if opened is not None:
        manifest = opened.snapshot.manifest
        counts = manifest.get("counts", {})
        built = manifest.get("built_at", "")
        st.markdown(
            f"**{counts.get('articles', 0):,}** articles · **{counts.get('passages', 0):,}** passages")
        st.caption(md_escape(f"Embedder {manifest['embedder']['id']} · built "
                             f"{format_date(built) or '?'} {built[11:16]} UTC"))
    elif problem == "missing":
        st.caption("No index yet.")
    else:
        st.caption("The index cannot be opened (see the message on the page).")

    from rag.embedders import EMBEDDERS

    names = list(EMBEDDERS)
    current = settings.embedding.backend
    with st.expander("Rebuild options"):
        choice = st.selectbox("Embedder", names, index=names.index(current) if current in names else 0,
                              key="embedder_choice", help="The model that turns passages into vectors. "
                              "The index knows which one built it.")
        changed = choice != current
        label = "Full rebuild (re-embed every passage)"
        if changed:  # a new embedder re-embeds everything
            full = st.checkbox(label, value=True, disabled=True, key="full_forced")
        else:
            full = st.checkbox(label, key="full")
    if changed:
        st.warning(f"The embedder {md_escape(choice)} takes effect after a rebuild; until then "
                   f"answers use {md_escape(current)}.", icon=":material/sync_problem:")
    job = jobs.current
    running = bool(job and job.running)
    if st.button("Rebuild index", icon=":material/refresh:", disabled=running, key="rebuild",
                 use_container_width=True):
        build = settings
        if changed:
            embedding = base.embedding.model_dump() if choice == base.embedding.backend else {
                **EmbeddingSettings().model_dump(), "backend": choice,
                "base_url": base.embedding.base_url if choice == "openai" else None}
            build = settings_with(settings, embedding=embedding)
        try:
            jobs.start(build, "rebuild", full=full or changed)
        except RagError as exc:
            st.error(md_escape(str(exc)))
        st.rerun()
    job_panel(jobs)


def job_panel(jobs: IndexJobs) -> None:
    job = jobs.current
    if job is None:
        return
    if job.running:
        running_job(jobs, job.id)
        return
    if job.error:
        st.error(md_escape(f"Index build failed: {job.error}"), icon=":material/error:")
    elif job.report:
        r = job.report
        st.success(
            f"Index {'updated' if job.kind == 'upload' else 'rebuilt'}: {r['articles']} articles, "
            f"{r['passages']} passages ({r['added']} added, {r['updated']} updated, "
            f"{r['removed']} removed) in {r['seconds']:.1f} s.", icon=":material/check_circle:")
        skipped = r.get("skipped", [])
        if skipped:
            with st.expander(f"{len(skipped)} file(s) or item(s) skipped", icon=":material/warning:"):
                for item in skipped[:50]:
                    st.caption(md_escape(f"{Path(item['path']).name}: {item['error']}"))


@st.fragment(run_every=0.7)
def running_job(jobs: IndexJobs, job_id: int) -> None:
    """Progress of the running build; reruns the whole page once it ends."""
    job = jobs.current
    if job is None or job.id != job_id or not job.running:
        st.rerun(scope="app")
    st.progress(job.fraction, text=job.label)
    st.caption("Questions are answered from the current index until the new one is published.")


def upload_section(settings: Settings, jobs: IndexJobs) -> None:
    limit_mb = MAX_UPLOAD_BYTES // (1024 * 1024)
    files = st.file_uploader(
        f"Article files ({' '.join(UPLOAD_SUFFIXES)}; up to {limit_mb} MB each)",
        accept_multiple_files=True, key=f"upload-{ss.upload_gen}", max_upload_size=limit_mb,
        label_visibility="collapsed")
    st.caption("Text, Markdown, HTML, JSON or JSONL articles; saved to the articles folder and indexed.")
    running = bool(jobs.current and jobs.current.running)
    if st.button("Add and index", icon=":material/upload_file:", disabled=not files or running,
                 key="add_articles", use_container_width=True):
        result = save_uploads([(f.name, f.getvalue()) for f in files], Path(settings.articles_dir))
        ss.upload_result = result
        ss.upload_gen += 1  # a fresh uploader: the same files are not added twice
        if result.saved:
            try:
                jobs.start(settings, "upload", uploaded=result.saved)
            except RagError as exc:
                ss.upload_error = str(exc)
        st.rerun()
    result = ss.get("upload_result")
    if result is not None:
        if result.saved:
            st.success(md_escape(f"Saved {len(result.saved)} file(s): {', '.join(result.saved)}"),
                       icon=":material/check:")
        for name, reason in result.rejected:
            st.error(md_escape(f"{name} rejected: {reason}"), icon=":material/block:")
    if ss.get("upload_error"):
        st.error(md_escape(ss.pop("upload_error")))


def model_section(settings: Settings) -> None:
    options = list(BACKENDS)
    st.selectbox("Chat backend", options, format_func=BACKENDS.get, key="llm_choice")
    choice = ss.llm_choice
    if choice == "openai-compatible":
        st.text_input("Server URL", key="llm_base_url", placeholder="http://localhost:11434/v1")
        st.text_input("Model", key=f"llm_model_{choice}", placeholder="the server's first model")
    elif choice == "openai":
        st.text_input("Model", key=f"llm_model_{choice}", placeholder="gpt-4o-mini")
    elif choice == "llama-cpp":
        st.text_input("GGUF file", key=f"llm_model_{choice}", placeholder="packaged Qwen2.5-Coder-1.5B")
    if choice in ("openai", "openai-compatible"):
        if ss.get("_api_key") is not None:
            c1, c2 = st.columns([3, 2])
            c1.caption(":material/key: API key set for this session only.")
            c2.button("Forget", on_click=forget_key, key="forget_key", use_container_width=True)
        else:
            st.text_input("API key (this session only, never stored)", type="password",
                          key="api_key_input", on_change=take_key,
                          placeholder="optional for local servers")
    st.caption(md_escape("Next answer: " + backend_label(
        {"backend": settings.llm.backend, "model": settings.llm.model or "",
         "endpoint": endpoint_of(settings.llm.base_url)})))


def take_key() -> None:
    """Move the typed key out of the widget so it is never shown back."""
    value = (ss.get("api_key_input") or "").strip()
    ss.api_key_input = ""
    ss._api_key = SecretStr(value) if value else None
    ss.pop("_keyed_model", None)


def forget_key() -> None:
    ss._api_key = None
    ss.pop("_keyed_model", None)


def search_section(opened) -> None:
    st.slider("Passages given to the model", 1, 12, key="k")
    sources = opened.snapshot.list_sources() if opened is not None else []
    if ss.get("f_sources"):  # publishers gone after a rebuild are dropped from the filter
        ss.f_sources = [s for s in ss.f_sources if s in sources]
    st.multiselect("Publishers", sources, key="f_sources", placeholder="all publishers",
                   disabled=not sources)
    st.date_input("Published from", value=None, key="f_since", format="YYYY-MM-DD")
    st.date_input("Published until", value=None, key="f_until", format="YYYY-MM-DD")


def search_filters():
    from rag.retrieval import SearchFilters

    since, until = ss.get("f_since"), ss.get("f_until")
    filters = SearchFilters(sources=list(ss.get("f_sources") or []),
                            since=since if isinstance(since, date) else None,
                            until=until if isinstance(until, date) else None)
    return None if filters.is_empty() else filters


# -- chat ----------------------------------------------------------------------------


def ask(question: str, settings: Settings, opened, store: ConversationStore) -> None:
    """Stream the answer to ``question`` and keep both turns in the conversation."""
    from rag.answer import Answer, Answerer

    history = history_for_answerer(ss.messages)
    user = {"role": "user", "content": question}
    mid = secrets.token_hex(4)
    ui.user_message(question)
    with st.chat_message("assistant", avatar=":material/newspaper:"):
        placeholder = st.empty()
        placeholder.markdown("_Searching the articles…_")
        try:
            if opened is None:
                raise RagError("There is no index to answer from yet: add articles in the sidebar, "
                               "or build one with `rag index build`.")
            model = chat_model(settings)
            answerer = Answerer(settings, opened_index=opened, chat_model=model)
            text, final = "", None
            for item in answerer.stream(question, history, search_filters()):
                if isinstance(item, Answer):
                    final = item
                else:
                    text += item
                    ui.streaming_text(placeholder, text, mid)
            if final is None:
                raise RagError("The answer ended before it was complete; try again.")
            record = answer_record(final, mid)
            if final.backend == "openai":
                record["endpoint"] = endpoint_of(getattr(model, "base_url", None))
            for c in record["citations"]:
                article = opened.snapshot.article(c["article_id"]) or {}
                if article.get("path"):
                    c["file"] = Path(article["path"]).name
            user["standalone"] = final.standalone_question
        except RagError as exc:
            record = {"role": "assistant", "id": mid, "error": True, "content": str(exc)}
        except Exception as exc:  # noqa: BLE001 - never a traceback on the page
            log.exception("answering failed")
            record = {"role": "assistant", "id": mid, "error": True,
                      "content": f"Something went wrong while answering ({type(exc).__name__}). "
                                 "Try again; the server log has the details."}
        with placeholder.container():
            ui.answer_body(record)
    ss.messages = [*ss.messages, user, record]
    try:
        store.save(ss.cid, ss.messages)
    except RagError as exc:
        st.warning(md_escape(str(exc)))


def chat(settings: Settings, opened, index_problem: str | None, store: ConversationStore) -> None:
    question = st.chat_input("Ask about the articles…", key="question")
    question = question or ss.pop("pending_question", None)
    if ss.get("notice"):
        st.warning(md_escape(ss.pop("notice")))
    if not ss.messages and not question:
        ui.brand()
        if opened is not None:
            snapshot = opened.snapshot
            counts = snapshot.manifest.get("counts", {})
            examples = example_questions(snapshot.sample_titles(12, seed=0), 3)
            ui.welcome(counts.get("articles", 0), counts.get("passages", 0), len(snapshot.list_sources()),
                       examples, pick_example)
        elif index_problem == "missing":
            st.info("No articles are indexed yet. Add article files in the sidebar (**Add articles**), "
                    "or put them in the articles folder and press **Rebuild index**.",
                    icon=":material/info:")
        else:
            st.error(md_escape(index_problem or "The index cannot be opened."), icon=":material/error:")
        return
    ui.brand(sub=None)
    if index_problem and index_problem != "missing":
        st.error(md_escape(index_problem), icon=":material/error:")
    for message in ss.messages:
        if message.get("role") == "user":
            ui.user_message(message.get("content", ""))
        else:
            ui.assistant_message(message)
    if question and question.strip():
        ask(question.strip()[:4000], settings, opened, store)


def main() -> None:
    st.set_page_config(page_title="Article Q&A", page_icon=":material/newspaper:", layout="centered",
                       initial_sidebar_state="expanded")
    # Uncaught errors (there should be none: see the wrapper at the bottom)
    # show no traceback to the person; the server log keeps the details.
    st.set_option("client.showErrorDetails", "none")
    st.set_option("client.toolbarMode", "minimal")
    ui.inject_css()
    try:
        base = load_settings()
    except Exception as exc:  # noqa: BLE001 - a bad rag.toml or RAG_* value
        st.error(md_escape(f"The settings could not be read: {exc}"))
        return
    init_session(base)
    jobs = index_jobs(str(Path(base.index_dir).resolve()))
    settings = effective_settings(base, jobs)
    store = conversation_store(settings)
    load_conversation(store)
    opened, problem = open_current_index(settings)
    # The chat runs first so that the sidebar (drawn after it, wherever it
    # appears on the page) sees the conversation including a new answer.
    chat(settings, opened, problem, store)
    sidebar(base, settings, opened, problem, jobs)


try:
    main()
except Exception as exc:  # noqa: BLE001 - the page shows a message, the log the traceback
    log.exception("the page failed")
    st.error(f"Something went wrong ({md_escape(type(exc).__name__)}). Reload the page; if it keeps "
             "happening, the server log has the details.")
