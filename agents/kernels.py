"""Compiled kernels of the agents' rules: one pass over the citizens per rule.

A vectorized numpy rule makes one temporary array per operation (a dozen passes over every
citizen for satisfaction alone); these numba kernels (``cache=True``: compiled once, then
loaded from disk) compute the same expressions row by row, in the same order of floating
point operations, so each gives exactly the numpy rule's values. The rule functions in
agents/citizens.py and agents/firms.py keep the rules' sentences (docs/ODD.md) and call
these with plain arrays; random numbers are drawn in bulk from ``model.rng`` by the rule
and passed in, so one seed still gives one run. The logit chooser takes the generator
itself and draws in numpy's order, the same numbers (tests/test_engine.py checks it): a
numba kernel's ``rng.random()`` draws from the same bit generator as numpy's bulk
``rng.random(shape)``, though not faster, so a rule gains from it only when the draws
let the kernel skip work (choose_gumbel skips most logarithms). Exponentials stay with
numpy (``np.exp`` may use its own vectorized routine, whose last bit can differ from the C
library's), and a rule whose numpy form measured as fast as a kernel stays in numpy (a
short boolean expression is: the job seekers, online participation, the invariant checks).

What made these loops slow was rarely their arithmetic (measured at 100,000 citizens; see
each kernel): reading a citizen's services one bool at a time kept a loop scalar, so each
kernel reads a row of ``adopted`` as one 32-bit word (:func:`_service_rows`) and counts or
tests services with one integer operation; a branch on a citizen's state (employed,
commuting, a child) mispredicts about every other citizen and stops vectorization, and the
compiler turns a ternary on such a state back into a branch, so those choices are written
as integer arithmetic (:func:`_held`, :func:`_either`) or a lookup; and a loop that gathers
(by home, employer, mode) stays scalar, so the arithmetic that can run over contiguous
arrays is given its own loop. A division is kept as a division; a table of ``k / n`` for
the few counts k holds the division's own results.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

WORKING_AGE = 18.0  # agents.citizens.WORKING_AGE (this module is below the citizens)


@njit(cache=True)
def _clip01(x: float) -> float:
    return min(max(x, 0.0), 1.0)


# The byte of each service in a row word is 1 where used (numpy's bool is one byte, 0 or 1).
SERVICE_BYTES = 4  # the row word is 32 bits: four DIGITAL_SERVICES


@njit(cache=True)
def _service_rows(adopted: np.ndarray) -> np.ndarray:
    """Each citizen's row of ``adopted`` as one uint32 word (a view, no copy)."""
    if adopted.shape[1] != SERVICE_BYTES:
        raise ValueError("the kernels read a row of adopted as one word of four services")
    return np.ascontiguousarray(adopted).reshape(-1).view(np.uint32)


@njit(cache=True)
def _services_mask(services: int, chosen: np.ndarray) -> int:
    """The row word with the ``chosen`` services used: built through the same byte layout
    as the rows, so a mask and a row agree whatever the machine's byte order."""
    row = np.zeros(services, dtype=np.uint8)
    for s in chosen:
        row[s] = 1
    return np.int64(row.view(np.uint32)[0])


@njit(cache=True)
def _count(row: int, mask: int) -> int:
    """Services of ``mask`` used in ``row``: the four bytes (0 or 1) summed by one
    multiplication into the top byte (at most 4: no carry)."""
    return ((np.int64(row) & mask) * 0x01010101 >> 24) & 0xFF


@njit(cache=True)
def _pattern(row: int) -> int:
    """The four service bytes of ``row`` as the four bits of one number (0-15): each byte's
    bit lands on its own bit of the product (24 to 27), no two on the same."""
    return ((np.int64(row) & 0x01010101) * 0x01020408 >> 24) & 0xF


@njit(cache=True)
def _held(index: int) -> int:
    """1 for a row index (employer, mode) >= 0, 0 for none (-1), without a branch."""
    return (np.int64(index) >> 63) + 1


@njit(cache=True)
def _either(flag: int, yes: int, no: int) -> int:
    """``yes`` if ``flag`` (0 or 1) else ``no``, as arithmetic: the compiler makes a
    ternary on a citizen's state a branch, which mispredicts."""
    return flag * yes + (1 - flag) * no


@njit(cache=True)
def _shares(parts: int) -> np.ndarray:
    """k / parts for k = 0..parts: the division's results for each count, looked up."""
    return np.arange(parts + 1) / parts


@njit(cache=True)
def receive_income(
    employer: np.ndarray,
    wage: np.ndarray,
    age: np.ndarray,
    retirement_age: float,
    pension: float,
    benefit: float,
) -> np.ndarray:
    """Kernel of citizens.receive_income: the firm's wage for workers, the pension for
    retirees, the benefit for other adults, nothing for children (k/month).

    One lookup in the wages and, after them, what the jobless receive (0.62 -> 0.35 ms at
    100,000 citizens: the nested branches on employer and age mispredicted).
    """
    firms = len(wage)
    income_of = np.concatenate((wage, np.array([0.0, benefit, pension])))
    income = np.empty(len(employer))
    for i in range(len(employer)):
        retired = np.int64(age[i] >= retirement_age)
        otherwise = firms + _either(retired, 2, np.int64(age[i] >= WORKING_AGE))
        income[i] = income_of[_either(_held(employer[i]), employer[i], otherwise)]
    return income


@njit(cache=True)
def health_target(
    age: np.ndarray,
    access: np.ndarray,
    adopted: np.ndarray,
    telehealth: int,
    retirement_age: float,
    care: float,
    cared: float,
) -> np.ndarray:
    """Kernel of citizens.health_target: clip01(age level x (0.8 + 0.15 access + 0.05
    telehealth + care for the elderly) x (cared for the elderly, else 1)).

    Telehealth read from the row word (0.66 -> 0.10 ms at 100,000 citizens: the loop
    vectorizes, divisions included)."""
    rows = _service_rows(adopted)
    tele = _services_mask(adopted.shape[1], np.array([telehealth]))
    target = np.empty(len(age))
    for i in range(len(age)):
        over = (max(age[i], 40.0) - 40.0) / 60.0
        level = _clip01(1.0 - over * over)
        elderly = age[i] >= retirement_age
        factor = 0.8 + 0.15 * access[i] + (0.05 if rows[i] & tele else 0.0)
        factor = factor + (care if elderly else 0.0)
        target[i] = _clip01(level * factor * (cared if elderly else 1.0))
    return target


@njit(cache=True, boundscheck=True)  # an employer past the firms raises, as numpy did
def of_employer(column: np.ndarray, employer: np.ndarray, missing: int) -> np.ndarray:
    """Kernel of citizens.of_employer: ``column`` at each citizen's employer, ``missing``
    for the jobless (employer -1)."""
    out = np.empty(len(employer), dtype=column.dtype)
    for i in range(len(employer)):
        out[i] = column[employer[i]] if employer[i] >= 0 else missing
    return out


@njit(cache=True)
def staff_skill(employer: np.ndarray, skill: np.ndarray, firms: int) -> np.ndarray:
    """Kernel of firms.productivity_multiplier: the sum of its workers' skill for each
    firm, added in citizen row order (as numpy's bincount adds them).

    The jobless add theirs to a spare total past the firms instead of being skipped by a
    branch (0.44 -> 0.24 ms at 100,000 citizens); an employer past the firms raises, as
    numpy did.
    """
    total = np.zeros(firms + 1)
    last = -1
    for i in range(len(employer)):
        total[_either(_held(employer[i]), employer[i], firms)] += skill[i]
        last = max(last, employer[i])
    if last >= firms:
        raise IndexError("index is out of bounds")
    return total[:firms]


@njit(cache=True, boundscheck=True)  # an employer past the firms raises, as numpy did
def commute_trips(
    mode: np.ndarray,
    home: np.ndarray,
    employer: np.ndarray,
    firm_district: np.ndarray,
    modes: int,
    n: int,
) -> np.ndarray:
    """Kernel of citizens.commute_trips: commuters counted by (mode, home, work district)
    of ``n`` districts, flattened; a citizen with a mode but no job (retired since choosing
    it) is not one."""
    trips = np.zeros(modes * n * n)
    for i in range(len(mode)):
        if mode[i] >= 0 and employer[i] >= 0:
            trips[(mode[i] * n + home[i]) * n + firm_district[employer[i]]] += 1.0
    return trips


@njit(cache=True)
def online_residents(home: np.ndarray, adopted: np.ndarray, districts: int) -> np.ndarray:
    """Kernel of citizens.use_public_services: residents of each district who use
    e-government or telehealth (services 0 and 1).

    Counted as integers, without a branch (0.27 -> 0.12 ms at 100,000 citizens)."""
    rows = _service_rows(adopted)
    public = _services_mask(adopted.shape[1], np.array([0, 1]))
    online = np.zeros(districts, dtype=np.int64)
    for i in range(len(home)):
        online[home[i]] += _count(rows[i], public) > 0
    return online.astype(np.float64)


@njit(cache=True)
def service_access(
    home: np.ndarray, adopted: np.ndarray, district_access: np.ndarray, offline: float
) -> np.ndarray:
    """Kernel of citizens.use_public_services: the home district's access, x ``offline``
    (1 - penalty) for a citizen using neither e-government nor telehealth.

    The factor is looked up, not branched on (0.34 -> 0.13 ms at 100,000 citizens)."""
    rows = _service_rows(adopted)
    public = _services_mask(adopted.shape[1], np.array([0, 1]))
    factor = np.array([offline, 1.0])
    access = np.empty(len(home))
    for i in range(len(home)):
        online = np.int64(_count(rows[i], public) > 0)
        access[i] = district_access[home[i]] * factor[online]
    return access


@njit(cache=True)
def adult_adoption_shares(
    home: np.ndarray, age: np.ndarray, adopted: np.ndarray, districts: int
) -> np.ndarray:
    """Kernel of citizens.adopt_digital_services: share_s(d), the adults of district d who
    use service s over the adults living there (at least 1), in one pass.

    The pass counts the citizens of each district by their set of services (16 sets, and
    one slot for the children): one integer increment per citizen, no branch; the users
    of s are then the counts of the sets holding s (1.1 -> 0.2 ms at 100,000 citizens).
    The counts are exact, as the float counts were.
    """
    services = adopted.shape[1]
    rows = _service_rows(adopted)
    sets = 1 << services
    children = sets  # the slot after the sets
    counts = np.zeros((districts, sets + 1), dtype=np.int64)
    flat = counts.reshape(-1)
    for i in range(len(home)):
        adult = np.int64(age[i] >= WORKING_AGE)
        flat[home[i] * (sets + 1) + _either(adult, _pattern(rows[i]), children)] += 1
    bit = np.empty(services, dtype=np.int64)
    for s in range(services):
        bit[s] = _pattern(_services_mask(services, np.array([s])))
    users = np.zeros((districts, services))
    for d in range(districts):
        adults = 0
        for p in range(sets):
            adults += counts[d, p]
        residents = max(float(adults), 1.0)
        for s in range(services):
            using = 0
            for p in range(sets):
                using += counts[d, p] * ((p & bit[s]) != 0)
            users[d, s] = using / residents
    return users


# How far below_per_step keeps its bounds of 1 - exp(x) from a draw: numpy's exponential
# and the subtraction are within ~1e-15 of the exact value; 1e-12 leaves room for any
# exponential routine's last bits.
EXP_MARGIN = 1e-12
UNDECIDED = -1


@njit(cache=True)
def below_per_step(draw: float, x: float) -> int:
    """Whether ``draw < 1 - exp(x)`` (per_step of a hazard: x = -hazard / steps per year),
    1 or 0, decided without the exponential where its bounds decide it, else UNDECIDED.

    For x <= 0, -x - x^2 / 2 <= 1 - exp(x) <= -x: a draw EXP_MARGIN or more below the
    lower bound is below, one at or above the upper bound plus EXP_MARGIN is not, whatever
    the last bits of numpy's exponential. A draw in between (a band x^2 / 2 + 2 EXP_MARGIN
    wide) is left to the rule, which decides it with numpy's ``draw < 1 - np.exp(x)``: the
    answers of numpy's exponential for every entry, without taking it for every entry.
    """
    if draw >= -x + EXP_MARGIN:
        return 0
    if x <= 0.0 and draw < -x - x * x / 2 - EXP_MARGIN:
        return 1
    return UNDECIDED


@njit(cache=True)
def _below_or_undecided(draw: float, x: float) -> tuple[bool, bool]:
    """below_per_step as two flags, (answer 1, UNDECIDED), from both its bounds without
    its branches, so that a loop over the draws vectorizes: a draw below the lower bound is
    never at or above the upper one, which is above the lower (rounding is monotonic)."""
    above = draw >= -x + EXP_MARGIN
    below = (x <= 0.0) & (draw < -x - x * x / 2 - EXP_MARGIN)
    return below, (not above) & (not below)


@njit(cache=True)
def adopt_or_drop(
    home: np.ndarray,
    age: np.ndarray,
    literacy: np.ndarray,
    privacy: np.ndarray,
    adopted: np.ndarray,
    rate: np.ndarray,
    availability: np.ndarray,
    unprotected: float,
    steps_per_year: int,
    draw: np.ndarray,
    drop: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kernel of citizens.adopt_digital_services: a user keeps service s unless the draw
    falls below the drop probability; an adult non-user adopts it when the draw falls below
    per_step(hazard) = 1 - exp(x), x = -hazard / steps per year, hazard = rate(home, s) x
    literacy x (1 - privacy x unprotected) x availability(home, s), rate = innovation +
    imitation x peer.

    The exponential is left out (below_per_step): the draws its bounds do not decide (a
    few non-users a month in a city of 100,000, often none) stay False and are returned
    for the rule to decide with numpy's ``draw < 1 - np.exp(x)``.

    The hazards have their own loop (it gathers by home, so stays scalar); the decisions
    run over the flat entries without a branch, vectorized with their divisions; the
    undecided are collected by a last pass only when there are some (2.1 -> 1.0 ms at
    100,000 citizens, where branches on use and age mispredicted and the division ran
    once per entry, scalar).

    Returns:
        The adoption after the step, the undecided entries (row x services + service)
        and their exponents x.
    """
    n, services = adopted.shape
    rows = _service_rows(adopted)
    hazard = np.empty((n, SERVICE_BYTES))
    for i in range(n):
        d = home[i]
        ready = literacy[i] * (1.0 - privacy[i] * unprotected)
        for s in range(SERVICE_BYTES):
            hazard[i, s] = rate[d, s] * ready * availability[d, s]
    # An adult's services not used, one byte per entry as in the rows.
    every = _services_mask(services, np.arange(services))
    open_rows = np.empty(n, dtype=np.uint32)
    for i in range(n):
        open_rows[i] = np.int64(age[i] >= WORKING_AGE) * (every & ~np.int64(rows[i]))
    out = np.empty(adopted.shape, dtype=np.bool_)
    chosen, hazards = out.reshape(-1), hazard.reshape(-1)
    draws = np.ascontiguousarray(draw).reshape(-1)
    users, open_ = rows.view(np.uint8), open_rows.view(np.uint8)
    k = 0
    for j in range(len(draws)):
        x = -hazards[j] / steps_per_year
        below, undecided = _below_or_undecided(draws[j], x)
        chosen[j] = (users[j] & (not draws[j] < drop)) | (open_[j] & below)
        k += open_[j] & undecided
    undecided_entries = np.empty(k, dtype=np.int64)
    exponent = np.empty(k)
    k = 0
    for j in range(len(draws) if len(undecided_entries) else 0):
        x = -hazards[j] / steps_per_year
        if open_[j] and below_per_step(draws[j], x) == UNDECIDED:
            undecided_entries[k], exponent[k] = j, x
            k += 1
    return out, undecided_entries, exponent


@njit(cache=True)
def die(
    growth: np.ndarray, health: np.ndarray, base: float, steps_per_year: int, draw: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kernel of citizens.die: a citizen dies when the draw falls below per_step(hazard) =
    1 - exp(x), x = -hazard / steps per year, with the Gompertz hazard = mortality_base x
    exp(mortality_growth x age) x (1.5 - 0.5 health) (``growth``: numpy's exponential).

    The exponential of x is left out (below_per_step): the draws its bounds do not decide
    stay False and are returned for the rule to decide with numpy's ``draw < 1 -
    np.exp(x)``. The decisions run without a branch, vectorized; the undecided are
    collected by a second pass only when there are some (0.26 -> 0.11 ms at 100,000).

    Returns:
        Who dies, the undecided citizens and their exponents x.
    """
    dead = np.empty(len(draw), dtype=np.bool_)
    k = 0
    for i in range(len(draw)):
        x = -(base * growth[i] * (1.5 - 0.5 * health[i])) / steps_per_year
        dead[i], undecided = _below_or_undecided(draw[i], x)
        k += undecided
    undecided_rows = np.empty(k, dtype=np.int64)
    exponent = np.empty(k)
    k = 0
    for i in range(len(draw) if len(undecided_rows) else 0):
        x = -(base * growth[i] * (1.5 - 0.5 * health[i])) / steps_per_year
        if below_per_step(draw[i], x) == UNDECIDED:
            undecided_rows[k], exponent[k] = i, x
            k += 1
    return dead, undecided_rows, exponent


@njit(cache=True)
def weighted_row(values: np.ndarray, i: int, weights: tuple, first: int = 0) -> float:
    """values[i, first:] @ weights, summed as numpy's ``einsum("ij,j->i")`` sums a short
    row (up to 7 terms; 8 and more it sums in more lanes): the even terms and the odd
    terms apart, each in order, then the two sums (tests/test_engine.py checks it).

    ``weights`` is a tuple: its length is then known when the kernel compiles and the sums
    are unrolled, ~6x faster than a loop over an array's length (0.25 against 1.6 ms at
    100,000 citizens; numpy's einsum: 0.7 ms)."""
    even = 0.0
    odd = 0.0
    for j in range(0, len(weights), 2):
        even += values[i, first + j] * weights[j]
    for j in range(1, len(weights), 2):
        odd += values[i, first + j] * weights[j]
    return even + odd


@njit(cache=True)
def weighted_rows(values: np.ndarray, weights: tuple, first: int = 0) -> np.ndarray:
    """values[:, first:] @ weights, row by row as weighted_row sums it."""
    out = np.empty(values.shape[0])
    for i in range(values.shape[0]):
        out[i] = weighted_row(values, i, weights, first)
    return out


@njit(cache=True)
def emigrate(
    satisfaction: np.ndarray,
    age: np.ndarray,
    employer: np.ndarray,
    draw: np.ndarray,
    need_weights: tuple,
    base: float,
    retirement_age: float,
    steps_per_year: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kernel of citizens.emigrate: an adult leaves when the draw falls below per_step(rate)
    = 1 - exp(x), x = -rate / steps per year, rate = out_migration_rate x (0.5 + 1.5 if
    unemployed) x (1.5 - overall satisfaction), overall = satisfaction @ NEED_WEIGHTS;
    retirees are not unemployed.

    The exponential is left out (below_per_step): the draws its bounds do not decide stay
    False and are returned for the rule to decide with numpy's ``draw < 1 - np.exp(x)``.

    Returns:
        Who leaves, the undecided citizens and their exponents x.
    """
    leaving = np.zeros(len(draw), dtype=np.bool_)
    undecided = np.empty(len(draw), dtype=np.int64)
    exponent = np.empty(len(draw))
    k = 0
    for i in range(len(draw)):
        if not age[i] >= WORKING_AGE:
            continue
        unemployed = 1.5 if age[i] < retirement_age and employer[i] < 0 else 0.0
        overall = weighted_row(satisfaction, i, need_weights)
        x = -(base * (0.5 + unemployed) * (1.5 - overall)) / steps_per_year
        below = below_per_step(draw[i], x)
        leaving[i] = below == 1
        if below == UNDECIDED:
            undecided[k], exponent[k] = i, x
            k += 1
    return leaving, undecided[:k], exponent[:k]


@njit(cache=True)
def update_trust(
    trust: np.ndarray, satisfaction: np.ndarray, weights: tuple, adjustment: float
) -> None:
    """Kernel of citizens.update_trust, in place: trust += (satisfaction[1:] @ weights -
    trust) x adjustment."""
    for i in range(len(trust)):
        target = weighted_row(satisfaction, i, weights, 1)
        trust[i] += (target - trust[i]) * adjustment


# Groups of at most this many elements are ranked by insertion sort (no allocation); larger
# ones by numpy's stable merge sort.
SMALL_GROUP = 16


@njit(cache=True)
def rank_within_groups(groups: np.ndarray, priority: np.ndarray) -> np.ndarray:
    """Kernel of population.rank_within_groups: each element's rank in its group, 0 for the
    highest priority, ties in the elements' order, NaN priorities last: the ranks of
    ``np.lexsort((-priority, groups))``.

    The elements are counted into their groups (a counting sort keeps their order), then
    each group is sorted by -priority, stably: O(n) plus small sorts, 2-5x faster than the
    lexsort of the whole array (13,000 workers laid off by a few hundred firms: 0.56
    against 2.2 ms; 640,000 job seekers at 43,500 firms: 0.22 against 1.2 s).
    """
    n = len(groups)
    ranks = np.empty(n, dtype=np.int64)
    if n == 0:
        return ranks
    low = groups.min()
    size = groups.max() - low + 1
    start = np.zeros(size + 1, dtype=np.int64)
    for i in range(n):
        start[groups[i] - low + 1] += 1
    for g in range(size):
        start[g + 1] += start[g]
    members = np.empty(n, dtype=np.int64)
    fill = start[:-1].copy()
    for i in range(n):
        g = groups[i] - low
        members[fill[g]] = i
        fill[g] += 1
    key = np.empty(n)
    for i in range(n):
        key[i] = -priority[members[i]]
    for g in range(size):
        first, end = start[g], start[g + 1]
        if end - first <= SMALL_GROUP:
            for j in range(first + 1, end):
                moving, member = key[j], members[j]
                h = j
                while h > first and _sorts_before(moving, key[h - 1]):
                    key[h], members[h] = key[h - 1], members[h - 1]
                    h -= 1
                key[h], members[h] = moving, member
            for r in range(end - first):
                ranks[members[first + r]] = r
        else:
            order = np.argsort(key[first:end], kind="mergesort")
            for r in range(end - first):
                ranks[members[first + order[r]]] = r
    return ranks


@njit(cache=True)
def _sorts_before(a: float, b: float) -> bool:
    """a before b in numpy's sort order: smaller, or a number before a NaN."""
    return a < b or (b != b and a == a)


# Upper bounds of a Gumbel draw g = -log(-log(u)) over the cells [c, c + 1) / 1024 of u
# (g rises with u; 1e-6 above its top, far beyond a logarithm's last-bit error; the last
# cell, where g is unbounded, is infinite): choose_gumbel takes the logarithms only of the
# entries that may beat the row's best so far. 1024 cells: u x 1024 is exact.
GUMBEL_CELLS = 1024
GUMBEL_CEILING = np.append(
    -np.log(-np.log(np.arange(1, GUMBEL_CELLS) / GUMBEL_CELLS)) + 1e-6, np.inf
)


@njit(cache=True)
def choose_gumbel(log_weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Kernel of population.choose_gumbel: one column per row with probability proportional
    to exp(log_weights) (logit), the first largest of log_weights + a standard Gumbel draw,
    as ``np.argmax(log_weights + rng.gumbel(size=log_weights.shape), axis=1)`` picks it (a
    NaN counts as the largest, the first NaN wins).

    Draws from ``rng`` in numpy's order and way: for each entry in row then column order,
    u = 1 - rng.random() until u < 1, and g = 0 - log(-log(u)) (numpy's Gumbel, whose C code
    calls the same C library log). The draws and the generator's state after them are
    numpy's; the logarithms are taken only where the entry's ceiling (GUMBEL_CEILING) does
    not rule it out, and an entry ruled out could not have been chosen (the sum rounds
    monotonically, so weight + g <= weight + ceiling <= best).
    """
    chosen = np.zeros(log_weights.shape[0], dtype=np.int64)
    for i in range(log_weights.shape[0]):
        chosen[i] = _choose_gumbel_row(log_weights[i], rng)
    return chosen


@njit(cache=True)
def _choose_gumbel_row(log_weights: np.ndarray, rng: np.random.Generator) -> int:
    """choose_gumbel for one row."""
    chosen, best = 0, 0.0
    for j in range(len(log_weights)):
        u = 1.0 - rng.random()
        while u >= 1.0:
            u = 1.0 - rng.random()
        weight = log_weights[j]
        if j > 0 and weight + GUMBEL_CEILING[int(u * GUMBEL_CELLS)] <= best:
            continue
        value = weight + (0.0 - math.log(-math.log(u)))
        if j == 0 or value > best or (value != value and best == best):
            chosen, best = j, value
    return chosen


@njit(cache=True)
def pick_modes(
    home: np.ndarray,
    work: np.ndarray,
    income: np.ndarray,
    micro_user: np.ndarray,
    expected: np.ndarray,
    money: np.ndarray,
    constants: np.ndarray,
    income_floor: float,
    value_of_time_share: float,
    minutes_worked: float,
    sensitivity: float,
    closed: int,
    micro: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Kernel of citizens.pick_modes: each chooser's logit draw (as choose_gumbel draws it)
    over the modes with log weight -sensitivity x generalized cost, cost = expected minutes
    + money / value of time + the mode's constant, value of time = value_of_time_share x
    max(income, income_floor) / minutes worked; micro-mobility only for the choosers who
    use the mobility service, and mode ``closed`` (transit turned back; -1 for none) for
    nobody (cost inf)."""
    modes = len(constants)
    chosen = np.empty(len(home), dtype=np.int8)
    log_weights = np.empty(modes)
    for i in range(len(home)):
        h, w = home[i], work[i]
        time_value = value_of_time_share * _maximum(income[i], income_floor) / minutes_worked
        for m in range(modes):
            cost = expected[m, h, w] + money[m, h, w] / time_value + constants[m]
            if m == closed or (m == micro and not micro_user[i]):
                cost = np.inf
            log_weights[m] = -sensitivity * cost
        chosen[i] = _choose_gumbel_row(log_weights, rng)
    return chosen


@njit(cache=True)
def _maximum(a: float, b: float) -> float:
    """np.maximum of two floats: the larger, NaN when either is NaN."""
    if a != a or b != b:
        return a + b
    return a if a >= b else b


@njit(cache=True)
def learn(
    skill: np.ndarray,
    literacy: np.ndarray,
    employer: np.ndarray,
    adopted: np.ndarray,
    age: np.ndarray,
    skill_rate: float,
    literacy_rate: float,
    step: float,
    literacy_mean: float,
    support: float,
) -> None:
    """Kernel of citizens.learn, in place: skill on the job, literacy from use, the young's
    catch-up toward the literacy mean and the support lever for adults behind it.

    The services used are counted from the row word, and both catch-ups are computed and
    one kept: the loop then vectorizes (2.3 -> 0.25 ms at 100,000 citizens; counting the
    bools one by one kept it scalar, with its two divisions and branches on age and
    literacy that mispredicted).
    """
    services = adopted.shape[1]
    rows = _service_rows(adopted)
    every = _services_mask(services, np.arange(services))
    for i in range(len(skill)):
        worker = 1.0 if employer[i] >= 0 else 0.0
        skill[i] += skill_rate * worker * (1.0 - skill[i])
        used = _count(rows[i], every)
        lit = literacy[i] + literacy_rate * (used / services) * (1.0 - literacy[i])
        young = lit + step * max(literacy_mean - lit, 0.0) / 5
        behind = lit + support * (1.0 - lit)
        literacy[i] = young if age[i] < WORKING_AGE else (behind if lit < literacy_mean else lit)


@njit(cache=True)
def evaluate_satisfaction(
    satisfaction: np.ndarray,
    employer: np.ndarray,
    firm_district: np.ndarray,
    age: np.ndarray,
    health: np.ndarray,
    home: np.ndarray,
    mode: np.ndarray,
    access: np.ndarray,
    adopted: np.ndarray,
    privacy: np.ndarray,
    participates: np.ndarray,
    crowding: np.ndarray,
    minutes: np.ndarray,
    convenience: np.ndarray,
    e_government: int,
    retirement_age: float,
    mean_access: float,
    unprotected: float,
    channel: float,
) -> None:
    """Kernel of citizens.evaluate_satisfaction, in place: the five need levels of each
    citizen (see that rule for the formulas).

    The choices are index arithmetic and lookups, not branches (a commute of someone not
    commuting reads a 0-minute slot past the table), the services come from the row word,
    the shares of services from a table of their divisions (2.5 -> 1.0 ms at 100,000
    citizens: branches on employer, mode, age and participation mispredicted). A separate
    loop for the gathers measured no faster once the branches were gone.
    """
    districts = len(crowding)
    services = adopted.shape[1]
    rows = _service_rows(adopted)
    every = _services_mask(services, np.arange(services))
    handy = _services_mask(services, convenience)
    egov = _services_mask(services, np.array([e_government]))
    handy_share, used_share = _shares(len(convenience)), _shares(services)
    district_of = np.append(firm_district, 0)  # the jobless work nowhere: district 0
    minutes_of = np.append(minutes, 0.0)  # those who do not commute: 0 minutes
    # Read as a number, not a bool: the compiler branches on a bool it multiplies.
    online_now = participates.view(np.uint8)
    for i in range(len(age)):
        employed, commuting = _held(employer[i]), _held(mode[i])
        livelihood = employed | (age[i] >= retirement_age) | (age[i] < WORKING_AGE)
        satisfaction[i, 0] = 0.4 * livelihood + 0.3 * health[i] + 0.3 * (1 - crowding[home[i]])
        work = district_of[_either(employed, employer[i], len(firm_district))]
        trip = (_either(commuting, mode[i], 0) * districts + home[i]) * districts + work
        commute = minutes_of[_either(commuting, trip, len(minutes))]
        satisfaction[i, 1] = (
            0.45 * access[i]
            + 0.25 * _clip01(1.0 - commute / 90.0)
            + 0.3 * handy_share[_count(rows[i], handy)]
        )
        satisfaction[i, 2] = 1.0 - max(mean_access - access[i], 0.0) / mean_access
        satisfaction[i, 3] = 1.0 - privacy[i] * used_share[_count(rows[i], every)] * unprotected
        online = 0.4 * _count(rows[i], egov)
        satisfaction[i, 4] = 0.3 + online * channel + 0.3 * online_now[i]


@njit(cache=True)
def age_citizens(age: np.ndarray, employer: np.ndarray, step: float, retirement_age: float) -> None:
    """Kernel of citizens.age_citizens, in place: one step older; retirees leave their job.

    Every employer is written back, -1 for the retired (a select, not a branch: 0.09 ->
    0.03 ms at 100,000 citizens)."""
    for i in range(len(age)):
        age[i] += step
        employer[i] = -1 if age[i] >= retirement_age else employer[i]


@intrinsic
def _move(typingctx, out, to, rows, start, count):
    """``out[to : to + count] = rows[start : start + count]`` as one memmove, for two
    contiguous arrays of one type (numba's slice assignment copies an overlapping source
    first, then entry by entry: ~20x slower). No bounds are checked."""
    if not (
        isinstance(out, types.Array)
        and isinstance(rows, types.Array)
        and out.layout == rows.layout == "C"
        and out.dtype == rows.dtype
    ):
        return None

    def codegen(context, builder, signature, args):
        out_type, _, rows_type, _, _ = signature.args
        out_array = context.make_array(out_type)(context, builder, args[0])
        rows_array = context.make_array(rows_type)(context, builder, args[2])
        itemsize = context.get_abi_sizeof(context.get_data_type(out_type.dtype))
        target = builder.gep(out_array.data, [args[1]])
        source = builder.gep(rows_array.data, [args[3]])
        cgutils.raw_memmove(builder, target, source, args[4], itemsize)
        return context.get_dummy_value()

    return types.void(out, to, rows, start, count), codegen


@njit(cache=True)
def keep_rows(
    rows: np.ndarray, gone: np.ndarray, width: int, out: np.ndarray, in_place: bool
) -> None:
    """Kernel of Population.commit: every row but the ``gone`` ones (sorted row numbers),
    in their order, into the first rows of ``out``; a row is ``width`` entries of the flat
    ``rows`` (both contiguous, of one type, and ``out`` long enough: nothing is checked).
    ``out`` may be ``rows`` itself (``in_place``): a row only moves down, and the rows
    before the first gone one stay where they are."""
    to = 0
    start = 0
    for g in range(len(gone) + 1):
        end = gone[g] * width if g < len(gone) else len(rows)
        if to != start or not in_place:
            _move(out, to, rows, start, end - start)
        to += end - start
        start = end + width
