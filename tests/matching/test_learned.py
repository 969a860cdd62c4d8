"""The one ranker: the adapters (round → demand, investor → candidate, deals → history) and
serving the LambdaMART behind the hard rules."""

import pickle
from dataclasses import replace

import numpy as np
import pytest

from matching.candidates import build_candidate_set
from matching.learned import LearnedRanker, deal_history, demand_rounds, locality
from matching.offline.adapter import ProductPathRanker, investor_rows, round_profiles
from matching.offline.data import date_to_days, history_from_rows
from matching.offline.evaluate import split_history
from matching.offline.ranker import InvestorRanker
from matching.profiles import encode_demands
from matching.rank import ExposurePolicy, rank_batch
from matching.rules import eligible
from tests.matching.deals import synthetic_deals
from tests.matching.helpers import CFG, TODAY
from tests.matching.offline.synth import make_rows
from tests.matching.synthetic import synthetic_candidates, synthetic_demands

FAST = {"max_iter": 20, "n_windows": 2, "min_leaf_samples": 5}


@pytest.fixture(scope="module")
def synth_split() -> tuple:  # type: ignore[type-arg]
    history = history_from_rows(make_rows(120, 40, seed=3))
    return split_history(history, date_to_days("2012-07-01"))


def test_a_round_read_as_a_demand_is_the_same_round(synth_split: tuple) -> None:  # type: ignore[type-arg]
    rounds = synth_split[1].rounds
    profiles = round_profiles(rounds, np.arange(len(rounds)))
    p = profiles[0]
    assert p.financing_type == "equity" and p.round_type == rounds.round_type[0]
    assert p.industry_code == rounds.category[0] and p.enterprise_id == 0
    for j, profile in enumerate(profiles):
        back = demand_rounds([profile], TODAY)
        assert back.company[0] == str(j)
        assert (back.category[0], back.round_type[0]) == (rounds.category[j], rounds.round_type[j])
        place = (rounds.state[j], rounds.region[j], rounds.city[j])
        assert (back.state[0], back.region[0], back.city[0]) == place
        same = np.isclose(back.amount[0], rounds.amount[j]) or (
            np.isnan(back.amount[0]) and np.isnan(rounds.amount[j])
        )
        assert same


def test_locality_reads_gbt_codes_and_paths() -> None:
    assert locality("440305") == ("44", "4403", "440305")
    assert locality("CA/SF Bay/San Francisco") == ("CA", "SF Bay", "San Francisco")
    assert locality(None) == ("", "", "")


def test_an_investor_is_an_unrestricted_equity_candidate(synth_split: tuple) -> None:  # type: ignore[type-arg]
    train, test = synth_split
    end = float(train.rounds.day.max()) + 1
    rows = investor_rows(train, end)
    assert [r.institution_id for r in rows] == list(range(train.n_investors))
    assert all(r.kind == "equity" and not r.stages and not r.sectors for r in rows)
    recent = train.inv_investor[train.rounds.day[train.inv_round] >= end - 180]
    assert {r.institution_id for r in rows if r.activity > 0} == set(recent.tolist())
    cands = build_candidate_set(rows)
    profiles = round_profiles(test.rounds, np.arange(len(test.rounds)))
    assert eligible(encode_demands(profiles, cands), cands, CFG).all()


def test_the_product_path_ranks_like_the_offline_ranker(synth_split: tuple) -> None:  # type: ignore[type-arg]
    train, test = synth_split
    offline, _ = InvestorRanker(**FAST).fit(train).rank(test.rounds, 10)  # type: ignore[arg-type]
    product, _ = ProductPathRanker(InvestorRanker(**FAST)).fit(train).rank(test.rounds, 10)  # type: ignore[arg-type]
    assert product.shape == offline.shape
    assert (product == offline).mean() > 0.97  # float32 product scores may tie a few pairs


def test_deals_become_rounds_of_an_enterprise_and_day() -> None:
    deals = synthetic_deals(20, 60, seed=1)
    history = deal_history(deals)
    pairs = {(int(e), int(d)) for e, d in zip(deals.enterprise_id, deals.day, strict=True)}
    assert len(history.rounds) == len(pairs)
    assert len(history.inv_round) == len(set(zip(deals.enterprise_id.tolist(), deals.day.tolist(),
                                                 deals.institution_id.tolist(), strict=True)))  # fmt: skip
    assert set(history.investor_keys.tolist()) == {str(i) for i in deals.institution_id.tolist()}
    assert set(history.rounds.company.tolist()) == {str(e) for e, _ in pairs}


@pytest.fixture(scope="module")
def served() -> tuple:  # type: ignore[type-arg]
    deals = synthetic_deals(30, 400, seed=2)
    history = deal_history(deals)
    ids = np.array([int(k) for k in history.investor_keys.tolist()])
    model = LearnedRanker(InvestorRanker(**FAST).fit(history), ids)  # type: ignore[arg-type]
    return model, deals, build_candidate_set(synthetic_candidates(120, seed=2))


def test_the_served_ranker_trained_and_keeps_the_hard_rules(served: tuple) -> None:  # type: ignore[type-arg]
    model, _, cands = served
    assert model.ranker.model_ is not None and model.model_version.startswith("ltr-")
    demands = synthetic_demands(40, seed=4)
    batch = encode_demands(demands, cands)
    scores = model.score(batch, cands, CFG)
    ok = eligible(batch, cands, CFG)
    assert np.array_equal(np.isfinite(scores), ok)
    same = pickle.loads(pickle.dumps(model))
    assert same.model_version == model.model_version
    assert np.array_equal(same.score(batch, cands, CFG), scores)


def test_a_follow_on_round_ranks_the_earlier_investor_first(served: tuple) -> None:  # type: ignore[type-arg]
    model, deals, cands = served
    equity = [d for d in synthetic_demands(200, seed=7) if d.financing_type == "equity"]
    mandates = set(np.flatnonzero(cands.kind == 1).tolist())
    hits = 0
    for demand in equity[:20]:
        backers = deals.institution_id[deals.enterprise_id == demand.enterprise_id]
        backer = next((int(b) for b in backers if b in cands.institution_id[list(mandates)]), None)
        if backer is None:
            continue
        profile = replace(demand, amount_min_wan=500.0, amount_max_wan=800.0)
        ids, _ = rank_batch(model, [profile], cands, CFG, 5)
        hits += backer in cands.institution_id[ids[0][ids[0] >= 0]].tolist()
    assert hits >= 5


def test_no_candidates_rank_to_empty_lists_under_a_share_cap(served: tuple) -> None:  # type: ignore[type-arg]
    model = served[0]
    demands = synthetic_demands(3, seed=4)
    empty = build_candidate_set([])
    policy = ExposurePolicy(per_list=2, max_share=0.2)
    ids, vals = rank_batch(model, demands, empty, CFG, k=5, exposure=policy)
    assert ids.shape == (3, 0) and vals.shape == (3, 0)
