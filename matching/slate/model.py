"""路演排程 — the CP-SAT model of a slate and the runner of its lexicographic phases."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ortools.sat.python import cp_model

from matching.slate.core import Assignment, Context, slots_for
from matching.slate.problem import HEAR_WEIGHT, MEETING_WEIGHT, SolverParams

SOLVED = (cp_model.OPTIMAL, cp_model.FEASIBLE)


# ─── the CP-SAT model ──────────────────────────────────────────────────────────────────────────
Var = cp_model.IntVar


class SlateModel:
    """Decisions: group[e, session, room] (the pitch's room and session; the slot inside the
    block is assigned afterwards, as every meeting round of a session follows its whole pitch
    block), seat[i, session, room] and meet[i, e, round]. Auxiliaries: hear credits
    z[i, e, session, room] ≤ group ∧ seat, contacts c[i, e] and fairness f[e] = min(contacts, K)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx, self.m = ctx, cp_model.CpModel()
        self.group: dict[tuple[int, int, int], Var] = {}
        self._groups_of: dict[int, list[tuple[int, Var]]] = {}  # e → (session, group var)
        self.seat: dict[tuple[int, int, int], Var] = {}
        self.meet: dict[tuple[int, int, int], Var] = {}
        self.hear: dict[tuple[int, int, int, int], Var] = {}
        self.contact: dict[tuple[int, int], Var] = {}
        self.fair: dict[int, Var] = {}
        self._groups()
        self._seats()
        self._hearing()
        self._meetings()
        self._fairness()

    def _groups(self) -> None:
        ctx, m, p = self.ctx, self.m, self.ctx.problem
        for e in range(len(p.enterprises)):
            row = [m.new_bool_var(f"g{e}_{s}_{r}")
                   for s in sorted(ctx.ent_sessions[e]) for r in range(len(p.rooms))]  # fmt: skip
            keys = [(e, s, r) for s in sorted(ctx.ent_sessions[e]) for r in range(len(p.rooms))]
            self.group.update(zip(keys, row, strict=True))
            self._groups_of[e] = [(s, g) for (_, s, _), g in zip(keys, row, strict=True)]
            m.add_at_most_one(row)
        for s in range(len(p.sessions)):
            for r in range(len(p.rooms)):
                here = [v for (_, t, k), v in self.group.items() if (t, k) == (s, r)]
                m.add(sum(here) <= p.slots_per_room)

    def _seats(self) -> None:
        ctx, m, p = self.ctx, self.m, self.ctx.problem
        for i in range(len(p.investors)):
            for s in sorted(ctx.inv_sessions[i]):
                row = [m.new_bool_var(f"a{i}_{s}_{r}") for r in range(len(p.rooms))]
                self.seat.update({(i, s, r): v for r, v in enumerate(row)})
                m.add_at_most_one(row)
        for s in range(len(p.sessions) if p.room_seats is not None else 0):
            for r in range(len(p.rooms)):
                here = [v for (_, t, k), v in self.seat.items() if (t, k) == (s, r)]
                m.add(sum(here) <= (p.room_seats or 0))
        for i, e in ctx.banned:  # no-thanks: never in the room while that enterprise pitches
            for (f, s, r), g in self.group.items():
                if f == e and (i, s, r) in self.seat:
                    m.add_bool_or([g.negated(), self.seat[i, s, r].negated()])

    def _hearing(self) -> None:
        """z ≤ group, z ≤ seat, and an investor hears at most `slots_per_room` pitches a session."""
        ctx, m = self.ctx, self.m
        rooms = range(len(ctx.problem.rooms))
        for i, e in ctx.credit:
            for s in ctx.ent_sessions[e] & ctx.inv_sessions[i]:
                for r in rooms:
                    z = self.hear[i, e, s, r] = m.new_bool_var(f"z{i}_{e}_{s}_{r}")
                    m.add_implication(z, self.group[e, s, r])
                    m.add_implication(z, self.seat[i, s, r])
        by_seat: dict[tuple[int, int, int], list[Var]] = {}
        for (i, _, s, r), z in self.hear.items():
            by_seat.setdefault((i, s, r), []).append(z)
        for key, zs in by_seat.items():
            if len(zs) > ctx.problem.slots_per_room:
                m.add(sum(zs) <= ctx.problem.slots_per_room * self.seat[key])

    def _meetings(self) -> None:
        ctx, m = self.ctx, self.m
        for i, e in ctx.candidates:
            for t, rnd in enumerate(ctx.table.rounds):
                both = rnd.session in ctx.inv_sessions[i] and rnd.session in ctx.ent_sessions[e]
                if both and self._pitched_before(e, t):
                    self.meet[i, e, t] = m.new_bool_var(f"m{i}_{e}_{t}")
        for t in range(len(ctx.table.rounds)):
            here = [v for (_, _, k), v in self.meet.items() if k == t]
            m.add(sum(here) <= ctx.problem.meeting_tables)
        for vs in self.met_by_pair().values():
            m.add_at_most_one(vs)
        self._meeting_people()

    def _pitched_before(self, e: int, t: int) -> list[Var]:
        start, blocks = self.ctx.table.rounds[t].start, self.ctx.table.blocks
        return [g for s, g in self._groups_of.get(e, []) if blocks[s][1] <= start]

    def _meeting_people(self) -> None:
        """One place at a time, and an enterprise meets only after its pitch block has ended."""
        ctx, m = self.ctx, self.m
        by_inv: dict[tuple[int, int], list[Var]] = {}
        by_ent: dict[tuple[int, int], list[Var]] = {}
        for (i, e, t), v in self.meet.items():
            by_inv.setdefault((i, t), []).append(v)
            by_ent.setdefault((e, t), []).append(v)
        for (i, t), vs in by_inv.items():
            seated = [
                v for (j, s, _), v in self.seat.items() if j == i and s in ctx.round_blocks[t]
            ]
            m.add(sum(vs) + sum(seated) <= 1)
        for (e, t), vs in by_ent.items():
            m.add(sum(vs) <= sum(self._pitched_before(e, t)))

    def _fairness(self) -> None:
        ctx, m, k = self.ctx, self.m, self.ctx.problem.min_contacts
        heard: dict[tuple[int, int], list[Var]] = {}
        for (i, e, _, _), z in self.hear.items():
            heard.setdefault((i, e), []).append(z)
        met = self.met_by_pair()
        for e in range(len(ctx.problem.enterprises)) if k > 0 else []:
            for i in ctx.relevant[e]:
                c = self.contact[i, e] = m.new_bool_var(f"c{i}_{e}")
                m.add(c <= sum(heard.get((i, e), [])) + sum(met.get((i, e), [])))
            f = self.fair[e] = m.new_int_var(0, k, f"f{e}")
            m.add(f <= sum(self.contact[i, e] for i in ctx.relevant[e]))

    # objectives ---------------------------------------------------------------------------
    def met_by_pair(self) -> dict[tuple[int, int], list[Var]]:
        out: dict[tuple[int, int], list[Var]] = {}
        for (i, e, _), v in self.meet.items():
            out.setdefault((i, e), []).append(v)
        return out

    def tiers(self) -> cp_model.LinearExprT:
        """Placed enterprises ≫ must-meets kept ≫ Σ_e min(relevant contacts, K)."""
        ctx, met = self.ctx, self.met_by_pair()
        w_must = len(ctx.problem.enterprises) * ctx.problem.min_contacts + 1
        w_place = w_must * (len(ctx.must) + 1)
        musts = sum(sum(met.get(pair, [])) for pair in ctx.must)
        return w_place * sum(self.group.values()) + w_must * musts + sum(self.fair.values())

    def total_fit(self) -> cp_model.LinearExprT:
        """Σ fit points × (hear_weight · heard in the room + meeting_weight · met 1:1)."""
        fit = self.ctx.fit
        terms = [int(fit[i, e]) * HEAR_WEIGHT * z for (i, e, _, _), z in self.hear.items()]
        terms += [int(fit[i, e]) * MEETING_WEIGHT * v for (i, e, _), v in self.meet.items()]
        return sum(terms)

    def moves(self, prev: Assignment) -> cp_model.LinearExprT:
        """Previous items not kept (an item whose variable is gone counts as moved)."""
        return sum(1 - v if v is not None else 1 for _, v in self._vars_of(prev))

    def fix(self, fixed: Assignment) -> list[str]:
        """Force confirmed items; return those the model cannot hold."""
        lost = []
        for key, var in self._vars_of(fixed):
            if var is None:
                lost.append(str(key))
            else:
                self.m.add(var == 1)
        return lost

    def _vars_of(self, a: Assignment) -> list[tuple[object, Var | None]]:
        slots = self.ctx.table.slots
        groups = {e: (slots[q].session, slots[q].room) for e, q in a.pitch.items()}
        out: list[tuple[object, Var | None]] = []
        out += [((e, *g), self.group.get((e, *g))) for e, g in groups.items()]
        out += [((i, s, r), self.seat.get((i, s, r))) for (i, s), r in a.seat.items()]
        out += [((i, e, t), self.meet.get((i, e, t))) for (i, e), t in a.meet.items()]
        return out

    def hold_rooms(self, a: Assignment) -> None:
        """Fix every pitch's session and room, and every seat, to those of `a` (the model's last
        use: only the 1:1 meetings are left to choose)."""
        on = {id(v) for _, v in self._vars_of(a) if v is not None}
        for v in [*self.group.values(), *self.seat.values()]:
            self.m.add(v == int(id(v) in on))

    def hint(self, a: Assignment) -> None:
        """Start the search from `a`: a complete hint, auxiliaries included."""
        self.m.clear_hints()
        on = {id(v) for _, v in self._vars_of(a) if v is not None}
        for v in [*self.group.values(), *self.seat.values(), *self.meet.values()]:
            self.m.add_hint(v, id(v) in on)
        heard = set()
        for (i, e, s, r), z in self.hear.items():
            value = id(self.group[e, s, r]) in on and id(self.seat[i, s, r]) in on
            self.m.add_hint(z, value)
            heard |= {(i, e)} if value else set()
        for (i, e), c in self.contact.items():
            self.m.add_hint(c, (i, e) in heard or (i, e) in a.meet)
        for e, f in self.fair.items():
            got = sum(1 for i in self.ctx.relevant[e] if (i, e) in heard or (i, e) in a.meet)
            self.m.add_hint(f, min(got, self.ctx.problem.min_contacts))

    def read(self, solver: cp_model.CpSolver, prefer: dict[int, int]) -> Assignment:
        """The solution, with each pitch put in a slot of its block (preferred slots first)."""
        a = Assignment()
        groups = {e: (s, r) for (e, s, r), v in self.group.items() if solver.boolean_value(v)}
        a.pitch = slots_for(self.ctx, groups, prefer)
        a.seat = {(i, s): r for (i, s, r), v in self.seat.items() if solver.boolean_value(v)}
        a.meet = {(i, e): t for (i, e, t), v in self.meet.items() if solver.boolean_value(v)}
        return a


# ─── solving in phases ─────────────────────────────────────────────────────────────────────────
@dataclass
class Phase:
    name: str
    status: cp_model.CpSolverStatus
    value: float
    bound: float


class Runner:
    """Runs lexicographic phases on one model within one time budget."""

    def __init__(
        self, model: SlateModel, params: SolverParams, prefer: dict[int, int], deadline: float
    ) -> None:
        self.model, self.params, self.prefer = model, params, prefer
        self.deadline = deadline
        self.best: Assignment | None = None
        self.phases: list[Phase] = []

    def phase(
        self,
        name: str,
        expr: cp_model.LinearExprT,
        maximize: bool,
        share: float,
        start: Assignment | None = None,
    ) -> bool:
        """Optimise `expr` (from `start` if given), then hold it at the value found; False if no
        solution was found."""
        m = self.model.m
        if start is not None:
            self.model.hint(start)
        m.maximize(expr) if maximize else m.minimize(expr)
        solver = self._solver(share)
        status = solver.solve(m)
        if status not in SOLVED:
            self.phases.append(Phase(name, status, 0.0, 0.0))
            return False
        value = solver.objective_value
        self.phases.append(Phase(name, status, value, solver.best_objective_bound))
        self.best = self.model.read(solver, self.prefer)
        self.model.hint(self.best)
        m.add(expr >= round(value)) if maximize else m.add(expr <= round(value))
        return True

    def _solver(self, share: float) -> cp_model.CpSolver:
        p, solver = self.params, cp_model.CpSolver()
        left = p.time_limit_s if p.deterministic else self.deadline - time.monotonic()
        budget = max(0.05, left * share)  # deterministic runs split a fixed budget, not the clock
        solver.parameters.random_seed = p.random_seed
        solver.parameters.num_workers = p.num_workers
        solver.parameters.cp_model_probing_level = 0  # probing costs seconds here and finds little
        if p.deterministic:
            solver.parameters.max_deterministic_time = budget
            solver.parameters.interleave_search = p.num_workers > 1
            solver.parameters.max_time_in_seconds = 30 + 100 * budget  # a safety net only
        else:
            solver.parameters.max_time_in_seconds = budget
        return solver
