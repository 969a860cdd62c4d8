"""Text similarity of business scope and institution focus: character 2–3-gram TF-IDF, projected.

The projection keeps cosines exact while the candidates span at most ``dim`` dimensions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

Float32Array = npt.NDArray[np.float32]
_WHITESPACE = re.compile(r"\s\s+")
_BITS = 21  # Unicode code points fit in 21 bits: an n-gram of up to 3 is one uint64 key
_SEPARATOR = 0x1FFFFF  # above every code point: n-grams never span two texts


def _gram_keys(codes: npt.NDArray[np.uint64], n: int) -> npt.NDArray[np.uint64]:
    """Key of every ``n``-gram starting at each position (positions past the end masked later)."""
    out = np.zeros(len(codes), dtype=np.uint64)
    for i in range(n):
        shifted = np.full(len(codes), _SEPARATOR, dtype=np.uint64)
        shifted[: len(codes) - i] = codes[i:]
        out = (out << np.uint64(_BITS)) | shifted
    return out  # a 3-gram key is >= 2**42 > every 2-gram key: no code point is 0


def _string_key(gram: str) -> int:
    key = 0
    for ch in gram:
        key = (key << _BITS) | ord(ch)
    return key


class TextEncoder:
    """Encode texts so that the dot product of two encodings approximates their TF-IDF cosine."""

    def __init__(
        self, dim: int = 128, ngram_range: tuple[int, int] = (2, 3), random_state: int = 0
    ) -> None:
        self.dim = dim
        self.ngram_range = ngram_range
        self.random_state = random_state

    def fit(self, texts: Sequence[str]) -> TextEncoder:
        """Learn the vocabulary, IDF weights and projection from the candidates' texts."""
        if not 1 <= self.ngram_range[0] <= self.ngram_range[1] <= 3:
            raise ValueError("n-grams of 1 to 3 characters only (one 63-bit key per n-gram)")
        self.vectorizer_: TfidfVectorizer | None = TfidfVectorizer(
            analyzer="char", ngram_range=self.ngram_range, sublinear_tf=True, dtype=np.float32
        )
        try:
            tfidf = self.vectorizer_.fit_transform(list(texts))
        except ValueError:  # no text at all: every similarity is zero
            self.vectorizer_ = None
            self.components_ = np.zeros((1, 1), dtype=np.float32)
            return self
        self.components_ = self._basis(tfidf)
        self.idf_ = np.asarray(self.vectorizer_.idf_, dtype=np.float64)
        self._index_vocabulary()
        return self

    def _index_vocabulary(self) -> None:
        """Sorted n-gram keys and their term ids, for the vectorised :meth:`transform`."""
        assert self.vectorizer_ is not None
        vocab = self.vectorizer_.vocabulary_
        keys = np.array([_string_key(g) for g in vocab], dtype=np.uint64)
        ids = np.fromiter(vocab.values(), dtype=np.int64, count=len(vocab))
        order = np.argsort(keys)
        self.gram_keys_, self.gram_ids_ = keys[order], ids[order]
        self.components_t_ = np.ascontiguousarray(self.components_.T)

    def _basis(self, tfidf: object) -> Float32Array:
        n_docs, n_terms = tfidf.shape  # type: ignore[attr-defined]
        if n_docs <= self.dim:
            # Exact basis of the row space from the small Gram matrix: X = U S Vt, Vt = U' X / S.
            gram = (tfidf @ tfidf.T).toarray().astype(np.float64)  # type: ignore[attr-defined]
            eigval, eigvec = np.linalg.eigh(gram)
            keep = eigval > 1e-10
            basis = (tfidf.T @ eigvec[:, keep]).T / np.sqrt(eigval[keep])[:, None]  # type: ignore[attr-defined]
            return np.ascontiguousarray(basis, dtype=np.float32)
        svd = TruncatedSVD(n_components=min(self.dim, n_terms - 1), random_state=self.random_state)
        svd.fit(tfidf)
        return np.ascontiguousarray(svd.components_, dtype=np.float32)

    def transform(self, texts: Sequence[str]) -> Float32Array:
        """Encode texts."""
        out = np.zeros((len(texts), self.components_.shape[0]), dtype=np.float32)
        if self.vectorizer_ is None or not len(texts):
            return out
        rows, cols, w = self._triplets(texts)
        if len(texts) == 1:  # the one-demand path: skip building a sparse matrix
            out[0] = w @ self.components_t_[cols]
            return out
        tfidf = sp.csr_matrix((w, (rows, cols)), shape=(len(texts), len(self.idf_)))
        return np.asarray(tfidf @ self.components_t_, dtype=np.float32).reshape(out.shape)

    def tfidf(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Sparse l2-normalised TF-IDF rows, as the fitted vectorizer computes them."""
        rows, cols, w = self._triplets(texts)
        return sp.csr_matrix((w, (rows, cols)), shape=(len(texts), len(self.idf_)))

    def _triplets(
        self, texts: Sequence[str]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], Float32Array]:
        assert self.vectorizer_ is not None
        docs = [_WHITESPACE.sub(" ", t.lower()) for t in texts]
        doc, term = self._grams(docs)
        pair = np.unique(doc * len(self.idf_) + term, return_counts=True)
        rows, cols = np.divmod(pair[0], len(self.idf_))
        w = (1.0 + np.log(pair[1].astype(np.float64))) * self.idf_[cols]
        norms = np.sqrt(np.bincount(rows, weights=w * w, minlength=len(docs)))
        return rows, cols, (w / norms[rows]).astype(np.float32)

    def _grams(self, docs: Sequence[str]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(text row, term id) of every in-vocabulary n-gram occurrence of the texts."""
        joined = "\x00".join(docs)
        codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        codes[codes == 0] = _SEPARATOR
        row = np.cumsum(codes == _SEPARATOR)
        docs_out, terms_out = [], []
        low, high = self.ngram_range
        for n in range(low, high + 1):
            keys = _gram_keys(codes, n)
            pos = np.minimum(np.searchsorted(self.gram_keys_, keys), len(self.gram_keys_) - 1)
            hit = self.gram_keys_[pos] == keys
            docs_out.append(row[hit])
            terms_out.append(self.gram_ids_[pos[hit]])
        return np.concatenate(docs_out), np.concatenate(terms_out)
