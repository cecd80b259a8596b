"""helpers.data: the offline sources and the token-frequency estimate."""
import numpy as np
import pandas as pd
import pytest

from helpers import data, models, training


@pytest.fixture(scope="module")
def tok():
    return models.load()[0]


def test_wiki_sample():
    arts = data.wiki_sample()
    assert 100 <= len(arts) <= 110
    n_words = sum(len(a.split()) for a in arts)
    assert 440_000 <= n_words <= 500_000
    assert all(isinstance(a, str) and a for a in arts)
    assert "'''" not in arts[0]  # wiki markup removed
    titles = data.wiki_sample(titles=True)
    assert titles[0][0] == "Anarchism" and titles[0][1] == arts[0]
    assert data.wiki_sample() == arts  # cached, stable


def test_wiki_sentences():
    s = data.wiki_sentences()
    assert len(s) > 15_000
    assert all(len(x.split()) >= 5 for x in s)
    assert data.wiki_sentences(3) == s[:3]
    a, b = data.wiki_sentences(50, seed=1), data.wiki_sentences(50, seed=1)
    assert a == b and len(set(a)) == 50
    assert data.wiki_sentences(50, seed=2) != a
    with pytest.raises(ValueError):
        data.wiki_sentences(0)


@pytest.mark.parametrize("name,n", [("simlex999", 999), ("wordsim353", 353)])
def test_word_similarity(name, n):
    df = data.word_similarity(name)
    assert list(df.columns) == ["word1", "word2", "score"]
    assert len(df) == n
    assert df["score"].between(0, 10).all()
    assert (df["word1"] == df["word1"].str.lower()).all()
    df.loc[0, "score"] = -1  # a copy: the cache is not modified
    assert data.word_similarity(name)["score"].min() >= 0


def test_word_similarity_unknown_name():
    with pytest.raises(ValueError, match="simlex999"):
        data.word_similarity("men3000")


def test_glove():
    words, vecs = data.glove(1000)
    assert len(words) == 1000 and vecs.shape == (1000, 50) and vecs.dtype == np.float32
    assert words[:4] == ["the", ",", ".", "of"]  # frequency order
    all_words, all_vecs = data.glove()
    assert len(all_words) == 400_000 and all_vecs.shape == (400_000, 50)
    np.testing.assert_array_equal(all_vecs[:1000], vecs)
    with pytest.raises(ValueError):
        data.glove(0)


def test_token_counts(tok):
    c = data.token_counts(tok, ["the cat and the dog", "the"])
    v = tok.get_vocab()
    assert c[v["the"]] == 3 and c[v["cat"]] == 1
    assert c.sum() == 6 and c.shape == (len(tok),)


def test_encode_through_the_backend_equals_the_tokenizer_call(tok):
    """data._encode skips the Python BatchEncoding for a fast tokenizer: the same ids as tokenizer(...); with
    truncation set on the backend it falls back to the tokenizer call (which then truncates as asked)."""
    texts = ["the cat sat", "unbelievably", " leading space", "", "naïve café 1999"] * 3
    want = tok(texts, add_special_tokens=False, truncation=False)["input_ids"]
    assert data._encode(tok, texts, batch=4) == want
    backend = tok.backend_tokenizer
    backend.enable_truncation(max_length=2)
    try:
        assert data._encode(tok, texts) == tok(texts, add_special_tokens=False, truncation=False)["input_ids"]
    finally:
        backend.no_truncation()


@pytest.mark.parametrize("source", ["wordfreq", "wiki"])
def test_token_frequencies(tok, source):
    f = data.token_frequencies(tok, source=source)
    v = tok.get_vocab()
    assert f.shape == (30522,) and f.dtype == np.float64
    assert (f >= 0).all() and np.isfinite(f).all()
    assert f[v["the"]] > f[v["apple"]] > 0
    assert f[v["the"]] == f.max()
    assert 0.03 < f[v["the"]] < 0.09  # "the" is ~5% of English running text
    assert f[tok.cls_token_id] == 0 and f[tok.pad_token_id] == 0
    assert f[v["##s"]] > 0  # continuation pieces get the frequency of their words
    assert (f[[v[f"[unused{i}]"] for i in range(10)]] == 0).all()


def test_token_frequencies_ranks(tok):
    f = data.token_frequencies(tok)
    v = tok.get_vocab()
    rank = np.empty_like(f, dtype=np.int64)
    rank[np.argsort(-f, kind="stable")] = np.arange(len(f))
    assert rank[v["the"]] == 0
    assert rank[v["of"]] < 10
    assert rank[v["house"]] < 2000 < 10_000 < rank[v["zebra"]]


def test_wordfreq_table_is_wordfreq_exactly_and_cached(tmp_path, monkeypatch):
    import wordfreq

    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    data.wordfreq_table.cache_clear()
    words, f = data.wordfreq_table(500)
    assert list(words) == wordfreq.top_n_list("en", 500)
    assert f.tolist() == [wordfreq.word_frequency(w, "en") for w in words]  # bit for bit, not approximately
    files = list(tmp_path.glob("wordfreq_en_500_*.json"))
    assert len(files) == 1 and not f.flags.writeable
    files[0].write_text("{not json")                     # a corrupt cache file is said and rebuilt, not trusted
    data.wordfreq_table.cache_clear()
    with pytest.warns(RuntimeWarning, match="could not be read"):
        words2, f2 = data.wordfreq_table(500)
    assert words2 == words and f2.tolist() == f.tolist()
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="n_words"):
            data.wordfreq_table(bad)
    data.wordfreq_table.cache_clear()


def test_token_frequencies_bad_input(tok):
    with pytest.raises(ValueError, match="wordfreq"):
        data.token_frequencies(tok, source="books")

    class NoVocab:
        def get_vocab(self):
            return {}

        def __len__(self):
            return 0

    with pytest.raises(ValueError, match="vocabulary"):
        data.token_frequencies(NoVocab())
    with pytest.raises(ValueError, match="vocabulary"):
        data.token_counts(object(), ["text"])


def test_token_frequencies_byte_level_uses_the_leading_space_form(tmp_path, monkeypatch):
    """GPT-2-style tokenizers: wordfreq's frequency lands on "Ġthe", not on "the"."""
    from helpers import models

    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    tok = models.byte_level_bpe(vocab_size=600)
    f = data.token_frequencies(tok, "wordfreq", n_words=2000)
    the_sp = tok(" the", add_special_tokens=False)["input_ids"]
    the = tok("the", add_special_tokens=False)["input_ids"]
    assert len(the_sp) == 1 and the_sp != the
    assert f[the_sp[0]] > 0.03  # "the" is about 5 % of English words
    assert len(the) > 1 or f[the[0]] < f[the_sp[0]] / 10


def test_tokenizer_key_is_remembered_and_follows_the_vocabulary():
    import copy

    from helpers.data import tokenizer_key

    tok = copy.deepcopy(training.course_tokenizer())  # a private copy: the course's one stays untouched
    key = tokenizer_key(tok)
    assert tokenizer_key(tok) == key == tokenizer_key(training.course_tokenizer())
    tok.add_tokens(["zzqq_not_a_word"])
    assert tokenizer_key(tok) != key  # a new vocabulary gets a new key (cache entries do not collide)


def test_a_corrupt_frequency_cache_is_reported_and_rebuilt(tok, tmp_path):
    """An unreadable cache file is said and built again (never silently trusted, never a deep traceback)."""
    good = data.token_frequencies(tok, source="wiki")
    path = tmp_path / "freq.npy"
    path.write_bytes(b"\x93NUMPY garbage")                     # a torn file
    with pytest.warns(RuntimeWarning, match="could not be read"):
        again = data._token_frequencies(tok, "wiki", 0, len(good), False, path)
    np.testing.assert_array_equal(again, good)
    np.testing.assert_array_equal(np.load(path), good)         # rewritten
    np.save(path, good[:10])                                    # a file of the wrong shape
    with pytest.warns(RuntimeWarning, match="shape"):
        data._token_frequencies(tok, "wiki", 0, len(good), False, path)
