"""Text similarity between an enterprise's business scope and an institution's focus.

TF-IDF on character 2–3-grams needs no Chinese word segmenter. The candidates' TF-IDF vectors
are projected on their own leading singular vectors, so a demand × candidate similarity is one
dense dot product (and a whole batch one matrix product). While the candidates span no more
than ``dim`` dimensions the projection keeps every cosine exact; beyond that it is the usual
latent-semantic approximation.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

Float32Array = npt.NDArray[np.float32]
_WHITESPACE = re.compile(r"\s\s+")


class TextEncoder:
    """Encode texts so that the dot product of two encodings approximates their TF-IDF cosine.

    Parameters
    ----------
    dim : int
        Largest number of dimensions kept.
    ngram_range : tuple of int
        Character n-gram lengths.
    random_state : int
        Seed of the randomized SVD used for large corpora.
    """

    def __init__(
        self, dim: int = 128, ngram_range: tuple[int, int] = (2, 3), random_state: int = 0
    ) -> None:
        self.dim = dim
        self.ngram_range = ngram_range
        self.random_state = random_state

    def fit(self, texts: Sequence[str]) -> TextEncoder:
        """Learn the vocabulary, IDF weights and projection from the candidates' texts.

        Parameters
        ----------
        texts : sequence of str, length ``n``

        Returns
        -------
        TextEncoder
            ``self``.
        """
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
        return self

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
        """Encode texts.

        Parameters
        ----------
        texts : sequence of str, length ``m``

        Returns
        -------
        ndarray of float32, shape ``(m, d)``
            Encodings; ``d`` is at most ``dim``.
        """
        out = np.zeros((len(texts), self.components_.shape[0]), dtype=np.float32)
        if self.vectorizer_ is None:
            return out
        for i, text in enumerate(texts):
            ids, weights = self._tfidf(text)
            if len(ids):
                out[i] = self.components_[:, ids] @ weights
        return out

    def _tfidf(self, text: str) -> tuple[npt.NDArray[np.int64], Float32Array]:
        """Sparse l2-normalised TF-IDF of one text, as the fitted vectorizer computes it.

        A direct implementation: the vectorizer's own ``transform`` costs about a millisecond
        of input validation per call, too much for the one-demand path.
        """
        assert self.vectorizer_ is not None
        vocab, idf = self.vectorizer_.vocabulary_, self.idf_
        doc = _WHITESPACE.sub(" ", text.lower())
        low, high = self.ngram_range
        grams = Counter(
            doc[i : i + n] for n in range(low, high + 1) for i in range(len(doc) - n + 1)
        )
        hits = [(vocab[g], c) for g, c in grams.items() if g in vocab]
        if not hits:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        ids = np.array([h[0] for h in hits], dtype=np.int64)
        w = (1.0 + np.log(np.array([h[1] for h in hits], dtype=np.float64))) * idf[ids]
        return ids, (w / np.linalg.norm(w)).astype(np.float32)
