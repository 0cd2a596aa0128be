"""The engine's loops over listing pairs and firm pairs, compiled by Numba.

NumPy alone makes these passes over a block's matrices several times (a sparse product with a sparse
result, a bias array, segment maxima, a score array per signal, a partition per row): each pass costs a
trip through memory larger than the caches. Here each is one loop, spread over the cores (``prange``),
and the dense product stays with BLAS. Compiled code is cached next to this file (``cache=True``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from numba.core import types
from numba.extending import intrinsic

NEG_INF = np.float32(-np.inf)


@njit(parallel=True, cache=True)
def add_sparse_product(out, scale, a_indptr, a_indices, a_data, b_indptr, b_rows, b_data):  # pragma: no cover
    """out[i, j] += scale · (A @ Bᵀ)[i, j], A given by rows (CSR) and B by features (CSC: feature → rows).

    The work is the number of (feature, row of A, row of B) triples, a few per pair for character
    n-grams, instead of a sparse result with one entry per pair that shares any n-gram."""
    for i in prange(out.shape[0]):
        row = out[i]
        for p in range(a_indptr[i], a_indptr[i + 1]):
            feature = a_indices[p]
            weight = scale * a_data[p]
            for q in range(b_indptr[feature], b_indptr[feature + 1]):
                row[b_rows[q]] += weight * b_data[q]


@njit(parallel=True, cache=True)
def add_sparse_columns(out, scale, rows_indptr, rows_indices, rows_data, b_indptr, b_rows, b_data):  # pragma: no cover
    """out[i, r] += scale · (B @ Rᵀ)[i, r] with R given by rows (CSR, one per column of ``out``) and B by
    features (CSC). For a few rows of B against every row of R: the loop runs over R's n-grams, so no
    posting lists of R are needed."""
    for r in prange(out.shape[1]):
        for p in range(rows_indptr[r], rows_indptr[r + 1]):
            feature = rows_indices[p]
            weight = scale * rows_data[p]
            for q in range(b_indptr[feature], b_indptr[feature + 1]):
                out[b_rows[q], r] += weight * b_data[q]


@njit(parallel=True, cache=True)
def group_max(
    sim,
    left_starts,
    left_counts,
    left_slot,
    left_language,
    right_first,
    right_extra_group,
    right_extra_slot,
    right_language,
    bias,
    shift,
):  # pragma: no cover
    """For every (left firm h, right firm g): the max over their listing pairs (i, j) of
    sim[left_slot[i], slot of j] - bias[left language, right language]; -inf where either has none.

    ``sim`` has a row (column) per distinct text, which each listing's slot points to; a left firm's
    listings are consecutive. A right firm is given by the slot of its first listing (``sim.shape[1]``
    when it has none) and its further listings as (group, slot) pairs, so the common case of one listing
    is a plain gather. With ``shift``, ``sim`` is first shifted by the bias in place (once per ``sim``, when
    several calls share it). Then, per left firm, the max of its rows
    (contiguous, so vectorised) and, per right firm, the max of that over its listings."""
    distinct_left, distinct_right = sim.shape
    for r in prange(distinct_left if shift else 0):
        cells = sim[r]
        shift = bias[left_language[r]]
        for c in range(distinct_right):
            cells[c] -= shift[right_language[c]]
    out = np.empty((left_starts.shape[0], right_first.shape[0]), dtype=np.float32)
    for h in prange(left_starts.shape[0]):
        best = np.full(distinct_right + 1, NEG_INF, dtype=np.float32)  # the last cell: "no listing"
        for i in range(left_starts[h], left_starts[h] + left_counts[h]):
            cells = sim[left_slot[i]]
            for c in range(distinct_right):
                best[c] = max(best[c], cells[c])
        row = out[h]
        for g in range(right_first.shape[0]):
            row[g] = best[right_first[g]]
        for e in range(right_extra_group.shape[0]):
            g = right_extra_group[e]
            row[g] = max(row[g], best[right_extra_slot[e]])
    return out


@intrinsic
def _popcount(typingctx, x):  # pragma: no cover
    """Set bits of a 64-bit word: LLVM's ctpop, one instruction on any x86-64 of the last decade."""

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])

    return types.uint64(types.uint64), codegen


@njit(inline="always")
def _push(values, indices, value, index):  # pragma: no cover
    """Insert into a list sorted best first, whose last value ``value`` beats; an equal value stays ahead."""
    pos = values.shape[0] - 1
    while pos > 0 and value > values[pos - 1]:
        values[pos] = values[pos - 1]
        indices[pos] = indices[pos - 1]
        pos -= 1
    values[pos] = value
    indices[pos] = index


@njit(inline="always")
def _shared_counts(sets, x, other_sets, inter, union):  # pragma: no cover
    """inter[c] and union[c]: sizes of x ∩ and ∪ other firm c's set, word by word (the inner loop runs
    over the other firms, so it is vectorised)."""
    inter[:] = 0
    union[:] = 0
    for w in range(sets.shape[1]):
        word = sets[x, w]
        for c in range(other_sets.shape[0]):
            inter[c] += _popcount(word & other_sets[c, w])
            union[c] += _popcount(word | other_sets[c, w])


@njit(parallel=True, cache=True)
def score_block(
    forward,
    backward,
    block,
    cooperation,
    sectors,
    languages,
    other_cooperation,
    other_sectors,
    other_languages,
    weights,
    out,
    top_values,
    top_indices,
):  # pragma: no cover
    """Combined score of every (block firm, other firm) into ``out``, and each block firm's top k of them.

    ``forward``/``backward`` are, per (block firm, other), how well the other's offers meet the block
    firm's needs and the reverse (-inf where a side has no listing, counted as 0); ``weights`` =
    (cooperation, sectors, language); the sets are bit rows per firm (``other_*``: the others' rows)."""
    w_cooperation = np.float32(weights[0])
    w_sectors = np.float32(weights[1])
    w_language = np.float32(weights[2])
    n = other_cooperation.shape[0]
    for a in prange(block.shape[0]):
        fa = block[a]
        row = out[a]
        inter = np.empty(n, dtype=np.uint64)
        union = np.empty(n, dtype=np.uint64)
        _shared_counts(cooperation, fa, other_cooperation, inter, union)
        for c in range(n):
            row[c] = w_cooperation * (np.float32(inter[c]) / np.float32(max(union[c], 1)))
        _shared_counts(sectors, fa, other_sectors, inter, union)
        for c in range(n):
            row[c] += w_sectors * (np.float32(inter[c]) / np.float32(max(union[c], 1)))
        _shared_counts(languages, fa, other_languages, inter, union)
        for c in range(n):
            f = forward[a, c]
            b = backward[a, c]
            f = f if f > NEG_INF else np.float32(0.0)
            b = b if b > NEG_INF else np.float32(0.0)
            row[c] += (f + b) / np.float32(2.0) + (w_language if inter[c] > 0 else np.float32(0.0))
        _merge_row(row, top_values[a], top_indices[a])


@njit(inline="always")
def _merge_row(row, values, indices):  # pragma: no cover
    # A branch-free pass finds whether anything beats the k-th value; only then the scalar insertions.
    last = values.shape[0] - 1
    kth = values[last]
    beaten = False
    for a in range(row.shape[0]):
        beaten |= row[a] > kth
    if beaten:
        for a in range(row.shape[0]):
            if row[a] > values[last]:
                _push(values, indices, row[a], a)


@njit(parallel=True, cache=True)
def column_top(scores, offset, top_values, top_indices, chunk):  # pragma: no cover
    """Merge the rows of ``scores`` (numbered from ``offset``) into each column's running top k (best
    first; ties keep the lower row). Each thread takes ``chunk`` columns and walks down the rows,
    comparing a run of them with their k-th values at once; a row enters the scalar insertion only when
    one of its cells beats them."""
    columns = scores.shape[1]
    last = top_values.shape[1] - 1
    for part in prange((columns + chunk - 1) // chunk):
        lo = part * chunk
        hi = min(lo + chunk, columns)
        kth = np.empty(hi - lo, dtype=np.float32)
        for c in range(lo, hi):
            kth[c - lo] = top_values[c, last]
        for a in range(scores.shape[0]):
            row = scores[a, lo:hi]
            beaten = False
            for c in range(hi - lo):
                beaten |= row[c] > kth[c]
            if beaten:
                for c in range(hi - lo):
                    if row[c] > kth[c]:
                        _push(top_values[lo + c], top_indices[lo + c], row[c], offset + a)
                        kth[c] = top_values[lo + c, last]


@njit(cache=True, fastmath={"reassoc", "contract"})
def _dot(x, y):  # pragma: no cover
    # Reassociation lets the sum run in vector lanes; the blocks' BLAS product sums in its own order too.
    total = np.float32(0.0)
    for d in range(x.shape[0]):
        total += x[d] * y[d]
    return total


@njit(parallel=True, cache=True)
def best_listing_pairs(
    firms,
    others,
    need_start,
    need_count,
    offer_start,
    offer_count,
    need_dense,
    offer_dense,
    has_dense,
    need_indptr,
    need_indices,
    need_data,
    offer_indptr,
    offer_indices,
    offer_data,
    features,
    need_language,
    offer_language,
    bias,
    lexical_weight,
):  # pragma: no cover
    """For each pair p: the best (need of firms[p], offer of others[p]) and its similarity, the same sum as
    the blocks compute (dense + lexical weight · (lexical - bias)); -1 and -inf where a side has none.
    The first maximum in need-then-offer order wins, as ``np.argmax`` over that sub-matrix would.

    Lexical dots: each need's weights are spread into a dense vector of all ``features`` (one per run of
    pairs, cleared after use), and each offer's n-grams are looked up in it."""
    n = firms.shape[0]
    value = np.full(n, NEG_INF, dtype=np.float32)
    need = np.full(n, -1, dtype=np.int64)
    offer = np.full(n, -1, dtype=np.int64)
    runs = min(64, max(1, n // 64))  # each run clears a vector of every feature: not more runs than work
    for run in prange(runs):
        spread = np.zeros(features, dtype=np.float32)
        for p in range(run * n // runs, (run + 1) * n // runs):
            a, c = firms[p], others[p]
            best = NEG_INF
            for i in range(need_start[a], need_start[a] + need_count[a]):
                for q in range(need_indptr[i], need_indptr[i + 1]):
                    spread[need_indices[q]] = need_data[q]
                for j in range(offer_start[c], offer_start[c] + offer_count[c]):
                    lexical = np.float32(0.0)
                    for q in range(offer_indptr[j], offer_indptr[j + 1]):
                        lexical += spread[offer_indices[q]] * offer_data[q]
                    v = np.float32(lexical_weight * (lexical - bias[need_language[i], offer_language[j]]))
                    if has_dense:
                        v += _dot(need_dense[i], offer_dense[j])
                    if v > best or need[p] < 0:
                        best = v
                        need[p] = i
                        offer[p] = j
                for q in range(need_indptr[i], need_indptr[i + 1]):
                    spread[need_indices[q]] = 0.0
            value[p] = best
    return value, need, offer
