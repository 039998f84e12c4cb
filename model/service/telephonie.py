"""The telephone channel: SimPy queues on representative days, and the Erlang closed forms.

Machinery for :mod:`model.service.dossiers`. A telephone platform is a FIFO multi-server queue: calls arrive
(Poisson within hourly slots following a daily profile), wait for one of the agents logged in, and hang
up when their patience (exponential) runs out before an answer; an answered call holds its agent for
an exponential handling time (talk + after-call work). Agents are scheduled by slot: a share
``adaptation`` of them follows the arrival profile, the rest is spread evenly.

Simulating every call of the year for every replicate would cost minutes. Instead, for one platform
and one set of queue inputs, :func:`courbe_reponse` simulates the representative day(s) once for a grid
of agent counts (common random numbers: the same calls for every agent count, seed recorded) and
returns the response curve ``taux_aboutis(agents)`` and ``attente(agents)``; the curve is memoised on
its inputs (in memory and in an on-disk cache, :data:`CACHE_ENV`), and :func:`interpoler` evaluates it,
vectorised, at the agents of every replicate.

Closed forms for the stationary cases the tests check the simulation against:
:func:`erlang_c` (M/M/N, no abandonment) and :func:`erlang_a` (M/M/N+M, Palm's model with exponential
patience, as in Garnett, Mandelbaum & Reiman 2002).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import simpy

CACHE_ENV = "COGSIM_CACHE_DIR"  # directory of the on-disk cache; "off" disables it
CACHE_VERSION = 1  # bump when the simulation changes
# grid of agent counts, as multiples of the mean offered load (Erlangs) of the day
GRILLE_CHARGE = (0.4, 0.55, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.35, 1.55, 1.8, 2.2)


# ----------------------------------------------------------------------------- closed forms
def erlang_c(agents: int, arrivees: float, duree: float) -> dict[str, float]:
    """Erlang-C (M/M/N): probability of waiting and mean wait.

    Parameters
    ----------
    agents : number of servers N.
    arrivees : arrival rate λ (calls per minute).
    duree : mean handling time 1/μ (minutes).

    Returns
    -------
    dict
        ``p_attente`` (probability that a call waits), ``attente_moyenne`` (mean wait of all calls,
        minutes; inf when the load reaches N).

    Examples
    --------
    >>> round(erlang_c(2, 1.0, 1.0)["p_attente"], 4)  # a = 1 Erlang on 2 agents: C = 1/3
    0.3333
    """
    a = arrivees * duree
    if a >= agents:
        return {"p_attente": 1.0, "attente_moyenne": math.inf}
    terme, somme = 1.0, 1.0  # a^k / k!, summed for k < N
    for k in range(1, agents):
        terme *= a / k
        somme += terme
    dernier = terme * a / agents / (1.0 - a / agents)
    c = dernier / (somme + dernier)
    return {"p_attente": c, "attente_moyenne": c * duree / (agents - a)}


def erlang_a(agents: int, arrivees: float, duree: float, patience: float) -> dict[str, float]:
    """Erlang-A (M/M/N+M, Palm): abandonment, answer rate and mean wait with exponential patience.

    The stationary law of the number of calls in the system is that of a birth-death process with
    birth rate λ and death rate ``min(n, N)·μ + max(n − N, 0)·θ`` (θ = 1/patience), summed until the
    terms are negligible.

    Parameters
    ----------
    agents : N. arrivees : λ (calls/min). duree : 1/μ (min). patience : mean patience 1/θ (min).

    Returns
    -------
    dict
        ``p_abandon`` (share of calls hanging up), ``taux_aboutis`` (1 − p_abandon), ``p_attente``
        (probability of waiting), ``attente_moyenne`` (mean time in queue of all calls, answered or
        not, E[Q]/λ, minutes).
    """
    mu, theta = 1.0 / duree, 1.0 / patience
    log_p = [0.0]  # log of unnormalised π_n
    for n in range(1, agents + 1):
        log_p.append(log_p[-1] + math.log(arrivees / (n * mu)))
    n = agents
    while True:  # queue states
        n += 1
        log_p.append(log_p[-1] + math.log(arrivees / (agents * mu + (n - agents) * theta)))
        if n - agents > 50 and log_p[-1] < max(log_p) - 40:
            break
    lp = np.array(log_p)
    p = np.exp(lp - lp.max())
    p /= p.sum()
    k = np.arange(len(p))
    file = np.maximum(k - agents, 0)
    eq = float((file * p).sum())
    p_abandon = theta * eq / arrivees
    return {"p_abandon": p_abandon, "taux_aboutis": 1.0 - p_abandon, "p_attente": float(p[agents:].sum()),
            "attente_moyenne": eq / arrivees}


# ----------------------------------------------------------------------------- SimPy queue
def simuler_file(arrivees: np.ndarray, agents: np.ndarray, duree_creneau: float, duree: float,
                 patience: float, rng: np.random.Generator) -> dict[str, float]:
    """Simulate one FIFO multi-server queue with abandonment over consecutive slots (SimPy).

    Parameters
    ----------
    arrivees : expected calls in each slot (Poisson counts, times uniform within the slot).
    agents : agents logged in during each slot (integers; an agent leaving at a slot change first ends
        the call in progress). After the last slot the queue is served out by the last slot's agents.
    duree_creneau : slot length (minutes).
    duree : mean handling time (minutes, exponential).
    patience : mean patience (minutes, exponential; ``inf`` = nobody hangs up).
    rng : random generator (the draws depend only on it and on ``arrivees``, not on ``agents``:
        common random numbers across agent counts).

    Returns
    -------
    dict
        ``recus``, ``aboutis`` (calls), ``attente_aboutis`` (total wait of answered calls, minutes),
        ``attente_tous`` (total time in queue of all calls, minutes), ``attendu`` (calls that waited).
    """
    agents = np.asarray(agents, int)
    n_par = rng.poisson(arrivees)
    t_arr = np.sort(np.concatenate([duree_creneau * (i + rng.random(k)) for i, k in enumerate(n_par)]))
    n = len(t_arr)
    services = rng.exponential(duree, n)
    patiences = rng.exponential(patience, n) if np.isfinite(patience) else np.full(n, np.inf)
    capacite = max(int(agents.max()), 1)
    env = simpy.Environment()
    guichet = simpy.PriorityResource(env, capacity=capacite)
    stats = {"recus": float(n), "aboutis": 0.0, "attente_aboutis": 0.0, "attente_tous": 0.0, "attendu": 0.0}

    def appel(i: int) -> None:
        t0 = env.now
        req = guichet.request(priority=1)

        def decroche(_ev) -> None:
            w = env.now - t0
            stats["aboutis"] += 1
            stats["attente_aboutis"] += w
            stats["attente_tous"] += w
            stats["attendu"] += w > 0
            env.timeout(services[i]).callbacks.append(lambda _e: guichet.release(req))

        req.callbacks.append(decroche)
        if np.isfinite(patiences[i]):
            def raccroche(_ev) -> None:
                if not req.triggered:
                    req.cancel()
                    stats["attente_tous"] += patiences[i]
                    stats["attendu"] += 1
            env.timeout(patiences[i]).callbacks.append(raccroche)

    def arrivees_proc():
        for i in range(n):
            if t_arr[i] > env.now:
                yield env.timeout(t_arr[i] - env.now)
            appel(i)

    def absence(debut: float, fin: float):  # one agent off duty during [debut, fin)
        yield env.timeout(debut)
        req = guichet.request(priority=0)
        res = yield req | env.timeout(fin - debut)
        if req in res:
            yield env.timeout(max(fin - env.now, 0.0))
            guichet.release(req)
        else:
            req.cancel()

    for s, a in enumerate(agents):
        # after closing, the last slot's staffing serves the queue out (its absences never end)
        fin = (s + 1) * duree_creneau if s < len(agents) - 1 else s * duree_creneau + 1e9
        for _ in range(capacite - int(a)):
            env.process(absence(s * duree_creneau, fin))
    env.process(arrivees_proc())
    env.run(until=len(agents) * duree_creneau + 10 * (duree + (patience if np.isfinite(patience) else duree)) + 1e4)
    return stats


@dataclass(frozen=True)
class Journee:
    """The inputs of a representative day of one platform (the memoisation key of its curve)."""

    appels_jour: float  # calls offered per day to the platform
    profil: tuple[float, ...]  # share of the day's calls in each hourly slot (sums to 1)
    duree: float  # mean handling time, minutes
    patience: float  # mean patience, minutes
    adaptation: float  # share of the agents scheduled along the arrival profile
    jours: int  # representative days simulated per agent count
    graine: int  # seed of the representative days


@dataclass(frozen=True)
class Courbe:
    """Response curve of a platform: answer rate and mean wait of answered calls by agent count."""

    agents: np.ndarray  # mean agents logged in over the opening hours (increasing)
    taux_aboutis: np.ndarray  # share of offered calls answered
    attente: np.ndarray  # mean wait of answered calls, minutes


def agents_par_creneau(agents: float, j: Journee) -> np.ndarray:
    """Agents logged in each slot for a mean of ``agents`` over the day (rounded to integers)."""
    profil = np.asarray(j.profil)
    forme = j.adaptation * profil * len(profil) + (1.0 - j.adaptation)
    return np.maximum(np.rint(agents * forme), 0).astype(int)


def simuler_journee(agents: float, j: Journee) -> dict[str, float]:
    """Totals of ``j.jours`` representative days with ``agents`` mean agents (see :func:`simuler_file`)."""
    profil = np.asarray(j.profil)
    total: dict[str, float] = {}
    for d in range(j.jours):
        rng = np.random.default_rng([j.graine, d])
        st = simuler_file(j.appels_jour * profil, agents_par_creneau(agents, j), 60.0, j.duree, j.patience, rng)
        for k, v in st.items():
            total[k] = total.get(k, 0.0) + v
    return total


_MEMOIRE: dict[Journee, Courbe] = {}


SHIPPED = Path(__file__).with_name("telephonie_courbes.json")  # curves of the shipped scenarios


@functools.cache
def _code_hash() -> str:
    """The simulation's own source: a change to it invalidates every cached and shipped curve."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def cle(j: Journee) -> str:
    """The cache key of a curve: its inputs, the agent grid and the simulation code."""
    key = json.dumps({"v": CACHE_VERSION, "code": _code_hash(), "grille": GRILLE_CHARGE, **asdict(j)}, sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:24]


@functools.cache
def _shipped() -> dict[str, dict]:
    try:
        data = json.loads(SHIPPED.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}  # each entry is checked when used


def _cache_file(j: Journee) -> Path | None:
    where = os.environ.get(CACHE_ENV, "")
    if where.lower() == "off":
        return None
    base = Path(where) if where else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cogsim"
    return base / "telephonie" / (cle(j) + ".json")


CACHE_MAX_BYTES = 1 << 20  # a curve is a few hundred bytes: anything much larger is not one


def _grille(j: Journee) -> np.ndarray:
    """Agent counts of the curve of ``j``: the integers nearest to GRILLE_CHARGE × the mean offered load."""
    charge = j.appels_jour * j.duree / (60.0 * len(j.profil))
    return np.unique(np.maximum(np.rint(np.array(GRILLE_CHARGE) * charge), 1.0))


def courbe_valide(d: object, j: Journee) -> Courbe | None:
    """The curve of ``j`` read from ``d`` (a cached or shipped JSON object), or None if ``d`` is not one.

    Checked: the three arrays present, one-dimensional, finite and of the length of the agent grid of
    ``j``; the agents equal to that grid; answer rates within [0, 1]; waits >= 0. A file that fails is
    never used (it is recomputed).
    """
    if not isinstance(d, dict):
        return None
    arrays = []
    for k in ("agents", "taux_aboutis", "attente"):
        v = d.get(k)
        if not isinstance(v, list) or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
            return None
        arrays.append(np.array(v, float))
    agents, taux, attente = arrays
    grille = _grille(j)
    if any(a.shape != grille.shape or not np.isfinite(a).all() for a in arrays) or not np.array_equal(agents, grille):
        return None
    if ((taux < 0) | (taux > 1)).any() or (attente < 0).any():
        return None
    return Courbe(agents, taux, attente)


def _lire_cache(fichier: Path, j: Journee) -> Courbe | None:
    try:
        if fichier.stat().st_size > CACHE_MAX_BYTES:
            return None
        return courbe_valide(json.loads(fichier.read_text(encoding="utf-8")), j)
    except (OSError, ValueError, RecursionError):  # missing, unreadable, malformed JSON or not UTF-8
        return None


def courbe_reponse(j: Journee) -> Courbe:
    """The response curve of a platform, memoised on ``j`` (in memory, then on disk).

    Agent counts: the integers nearest to :data:`GRILLE_CHARGE` × the day's mean offered load
    (Erlangs over the opening hours). The answer rate is made non-decreasing and the wait
    non-increasing in the agents (the simulation noise left with common random numbers is smaller than
    one grid step).
    """
    if j in _MEMOIRE:
        return _MEMOIRE[j]
    # simulated by `python tools/telephonie_courbes.py` with this very code; checked all the same
    c = courbe_valide(_shipped().get(cle(j)), j)
    fichier = _cache_file(j)
    if c is None and fichier is not None:
        c = _lire_cache(fichier, j)  # None if absent or not a valid curve: recomputed and replaced
    if c is not None:
        _MEMOIRE[j] = c
        return c
    grille = _grille(j)
    taux, attente = [], []
    for n in grille:
        st = simuler_journee(float(n), j)
        taux.append(st["aboutis"] / st["recus"] if st["recus"] else np.nan)
        attente.append(st["attente_aboutis"] / st["aboutis"] if st["aboutis"] else np.nan)
    c = Courbe(grille, np.maximum.accumulate(np.array(taux)), np.minimum.accumulate(np.array(attente)))
    _MEMOIRE[j] = c
    donnees = {k: v.tolist() for k, v in asdict(c).items()}
    if fichier is not None and courbe_valide(donnees, j) is not None:  # replaces a bad file atomically
        tmp = None
        try:
            fichier.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=fichier.parent, delete=False, suffix=".tmp") as f:
                tmp = f.name
                json.dump(donnees, f)
            os.replace(tmp, fichier)
        except OSError:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
    return c


def interpoler(c: Courbe, agents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Answer rate and mean wait (minutes) at ``agents`` (any shape), linear between grid points.

    Below the grid the answer rate falls in proportion to the agents (each agent answers what it can)
    and the wait holds; above it both hold. NaN agents give NaN.
    """
    a = np.asarray(agents, float)
    taux = np.interp(a, c.agents, c.taux_aboutis)
    bas = a < c.agents[0]
    taux = np.where(bas, c.taux_aboutis[0] * a / c.agents[0], taux)
    attente = np.interp(a, c.agents, c.attente)
    return np.where(np.isnan(a), np.nan, taux), np.where(np.isnan(a), np.nan, attente)


def forget() -> None:
    """Empty the in-memory curves and the shipped-curve cache (``tools/telephonie_courbes.py`` simulates
    every curve afresh after it)."""
    _shipped.cache_clear()
    _MEMOIRE.clear()


def computed() -> dict[Journee, Courbe]:
    """The curves computed or read so far in this process, by representative day."""
    return dict(_MEMOIRE)
