"""The sidebar's index sections: what is indexed, rebuilding, adding articles.

Builds run in the background (:class:`ui.build_jobs.IndexJobs`) with the
embedder the server already holds; while one runs, its progress shows here and
every session keeps answering from the index published before it. Rebuilds,
the embedder switch and uploads are drawn for the operator only (``admin``).
A rebuild syncs the articles folder and the uploads folder; an upload indexes
the saved files only. Neither removes articles indexed from other paths
(:mod:`rag.index.scope`).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from rag.config import Settings
from rag.errors import RagError
from rag.index.large_files import LARGE_FILE_BYTES, warning_text
from rag.index.stores import store_summary
from rag.ui.backends import embedder_choices, settings_with
from rag.ui.build_jobs import IndexJobs
from rag.ui.markdown_text import format_date, md_escape
from rag.ui.resources import cached_embedder
from rag.ui.upload_guard import forget_session_uploads
from rag.ui.uploads import MAX_UPLOAD_BYTES, UPLOAD_SUFFIXES, save_uploads, uploads_folder

ss = st.session_state


def index_summary(opened, problem: str | None) -> None:
    """Counts and embedder of the index (every visitor sees these)."""
    if opened is not None:
        manifest = opened.snapshot.manifest
        counts = manifest.get("counts", {})
        built = manifest.get("built_at", "")
        st.markdown(
            f"**{counts.get('articles', 0):,}** articles · **{counts.get('passages', 0):,}** passages")
        st.caption(md_escape(f"Embedder {manifest['embedder']['id']} · built "
                             f"{format_date(built) or '?'} {built[11:16]} UTC"))
        st.caption(md_escape(f"Store: {store_summary(manifest)}"))
    elif problem == "missing":
        st.caption("No index yet.")
    else:
        st.caption("The index cannot be opened (see the message on the page).")


def rebuild_section(base: Settings, settings: Settings, jobs: IndexJobs, admin: bool) -> None:
    """The operator's rebuild options and button, and the build's progress or result."""
    from rag.embed.registry import EMBEDDERS, embedding_for_backend

    current = settings.embedding.backend
    names = embedder_choices(list(EMBEDDERS), current)
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
        build = settings_with(settings, embedding=embedding_for_backend(base.embedding, choice)) \
            if changed else settings
        try:
            embedder = cached_embedder(build.embedding.model_dump_json())
            jobs.start(build, "rebuild", admin=admin, full=full or changed, embedder=embedder,
                       paths=rebuild_paths(settings))
        except RagError as exc:
            ss.rebuild_error = str(exc)  # shown after the rerun
        st.rerun()
    if ss.get("rebuild_error"):
        st.error(md_escape(f"Index build failed: {ss.pop('rebuild_error')}"), icon=":material/error:")
    job_panel(jobs)


def rebuild_paths(settings: Settings) -> list[Path]:
    """What "Rebuild index" syncs: the articles folder and the uploads folder, those
    that exist (the articles folder alone when neither does, so the message names it)."""
    folders = [Path(settings.articles_dir), uploads_folder(settings)]
    return [f for f in folders if f.exists()] or folders[:1]


def job_panel(jobs: IndexJobs, admin: bool = True) -> None:
    """The running build's progress, or how the last one ended (visitors: not why it failed)."""
    job = jobs.current
    if job is None:
        return
    state = job.state  # read once: the build thread swaps it as a whole
    if state.running:
        running_job(jobs, job.id)
        return
    if state.error and not admin:
        st.error("The last index build failed; the operator can see why.", icon=":material/error:")
    elif state.error:
        st.error(md_escape(f"Index build failed: {state.error}"), icon=":material/error:")
    elif state.report:
        r = state.report
        st.success(
            f"Index {'updated' if job.kind == 'upload' else 'rebuilt'}: {r['articles']} articles, "
            f"{r['passages']} passages ({r['added']} added, {r['updated']} updated, "
            f"{r['removed']} removed) in {r['seconds']:.1f} s."
            + (f" {r['kept']} article{'s' if r['kept'] != 1 else ''} from other folders kept."
               if r.get("kept") else ""),
            icon=":material/check_circle:")
        for item in r.get("large_files", []):
            st.caption(md_escape(f"Large file {Path(item['path']).name}: {item['bytes'] / 1e6:.1f} MB, "
                                 f"{item['passages']:,} passages"))
        skipped = r.get("skipped", [])
        if skipped and admin:
            with st.expander(f"{len(skipped)} file(s) or item(s) skipped", icon=":material/warning:"):
                for item in skipped[:50]:
                    st.caption(md_escape(f"{Path(item['path']).name}: {item['error']}"))


@st.fragment(run_every=0.7)
def running_job(jobs: IndexJobs, job_id: int) -> None:
    """Progress of the running build; reruns the whole page once it ends."""
    job = jobs.current
    state = job.state if job is not None else None
    if state is None or job.id != job_id or not state.running:
        st.rerun(scope="app")
    st.progress(state.fraction, text=state.label)
    st.caption("Questions are answered from the current index until the new one is published.")


def upload_section(settings: Settings, jobs: IndexJobs, admin: bool) -> None:
    """Upload article files, save the good ones, and index them in the background."""
    limit_mb = MAX_UPLOAD_BYTES // (1024 * 1024)
    files = st.file_uploader(
        f"Article files ({' '.join(UPLOAD_SUFFIXES)}; up to {limit_mb} MB each)",
        accept_multiple_files=True, key=f"upload-{ss.upload_gen}", max_upload_size=limit_mb,
        label_visibility="collapsed")
    folder = uploads_folder(settings)
    st.caption(md_escape(f"Text, Markdown, HTML, JSON or JSONL articles; saved to {folder} and added to the "
                         "index (nothing is removed)."))
    for f in files or []:
        if f.size > LARGE_FILE_BYTES:  # still accepted up to the upload limit, but slow to index
            st.warning(md_escape(warning_text(Path(f.name), f.size)), icon=":material/hourglass_top:")
    running = bool(jobs.current and jobs.current.running)
    if st.button("Add and index", icon=":material/upload_file:", disabled=not files or running,
                 key="add_articles", use_container_width=True):
        if not admin:
            raise RagError("Uploads are for the operator on this server ([ui] admin = false).")
        result = save_uploads([(f.name, f.getvalue()) for f in files], folder)
        ss.upload_result = result
        ss.upload_gen += 1  # a fresh uploader: the same files are not added twice
        forget_session_uploads()  # saved or rejected, Streamlit need not hold them any more
        if result.saved:
            try:
                jobs.start(settings, "upload", admin=admin, uploaded=result.saved,
                           embedder=cached_embedder(settings.embedding.model_dump_json()),
                           paths=[folder / name for name in result.saved])
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
