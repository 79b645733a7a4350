"""What a run costs: the dated price table, the `prices:` override, the cost of the tokens used, and the
`max-cost` cap that stops calling the model before the next call could pass it.

Pure but for ``Meter`` and its ``Spend``: the run's thread-safe account of what each answer cost, and of the
money spent and reserved under max-cost (the parallel calls share them). A cost is an estimate from the
provider's reported usage and list prices: no discount, tax or batch rate is known here; the invoice is the truth.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .errors import UsageError
from .models import Completion, Prompt, Usage

MILLION = 1_000_000


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens. ``cached_input``: tokens read from the provider's prompt cache;
    ``cache_write``: tokens written to it (Anthropic bills them at 1.25x input; OpenAI writes for free)."""

    input: float
    cached_input: float
    output: float
    cache_write: float | None = None  # None: the input price

    def of(self, tokens_in: int, cached: int, cache_written: int, tokens_out: int) -> float:
        """Dollars for one call's (or a run's) tokens; ``tokens_in`` counts every input token, cached or not."""
        plain = max(0, tokens_in - cached - cache_written)
        write = self.input if self.cache_write is None else self.cache_write
        return (
            plain * self.input + cached * self.cached_input + cache_written * write + tokens_out * self.output
        ) / MILLION


# The list prices of the models in tokens.MODEL_LIMITS, standard tier, per million tokens, as published on
# 2026-12-04 (PRICES_DATE) by openai.com/api/pricing (input / cached input / output) and
# platform.claude.com/docs/en/about-claude/pricing (base input / cache hits / output; 5-minute cache
# writes at 1.25x input). Like MODEL_LIMITS, the first matching prefix wins: a specific name comes first.
# A price that changed after that date is set in .qodo.yml under `prices:` until this table is updated.
PRICES_DATE = "2026-12-04"
PRICES: tuple[tuple[str, Price], ...] = (
    ("gpt-5.5-pro", Price(30.00, 30.00, 180.00)),
    ("gpt-5.5", Price(5.00, 0.50, 30.00)),
    ("gpt-5.4-pro", Price(30.00, 30.00, 180.00)),
    ("gpt-5.4-mini", Price(0.75, 0.075, 4.50)),
    ("gpt-5.4-nano", Price(0.20, 0.02, 1.25)),
    ("gpt-5.4", Price(2.50, 0.25, 15.00)),
    ("gpt-5-mini", Price(0.25, 0.025, 2.00)),
    ("gpt-5-nano", Price(0.05, 0.005, 0.40)),
    ("gpt-5.1", Price(1.25, 0.125, 10.00)),
    ("gpt-5", Price(1.25, 0.125, 10.00)),
    ("gpt-4.1-mini", Price(0.40, 0.10, 1.60)),
    ("gpt-4.1-nano", Price(0.10, 0.025, 0.40)),
    ("gpt-4.1", Price(2.00, 0.50, 8.00)),
    ("gpt-4o-mini", Price(0.15, 0.075, 0.60)),
    ("gpt-4o", Price(2.50, 1.25, 10.00)),
    ("o4-mini", Price(1.10, 0.275, 4.40)),
    ("o3-mini", Price(1.10, 0.55, 4.40)),
    ("o3", Price(2.00, 0.50, 8.00)),
    ("claude-opus-4-1", Price(15.00, 1.50, 75.00, 18.75)),
    ("claude-opus-4-0", Price(15.00, 1.50, 75.00, 18.75)),
    ("claude-opus-4-2025", Price(15.00, 1.50, 75.00, 18.75)),  # claude-opus-4-20250514
    ("claude-opus-4", Price(5.00, 0.50, 25.00, 6.25)),  # 4.5 and later
    ("claude-sonnet-4", Price(3.00, 0.30, 15.00, 3.75)),
    ("claude-3-7-sonnet", Price(3.00, 0.30, 15.00, 3.75)),
    ("claude-haiku-4", Price(1.00, 0.10, 5.00, 1.25)),
    ("claude-3-5-haiku", Price(0.80, 0.08, 4.00, 1.00)),
)
# .qodo.yml's prices: entry: {input, cached-input, output} in dollars per million tokens.
PRICE_FIELDS = ("input", "cached-input", "output")
MAX_PRICE = 10_000.0  # per million tokens: a larger number is a typo (a price per token, or per thousand)


def model_key(model: str) -> str:
    """A model's name as the tables know it, also as proxies and clouds spell it (as tokens.model_limits)."""
    return model.lower().rsplit("/", 1)[-1].split("anthropic.", 1)[-1]


def find_price(model: str, overrides: Mapping[str, Price] | None = None) -> Price | None:
    """The price of a model: the config's `prices:` first (the longest matching prefix), then the table."""
    name = model_key(model)
    for prefix in sorted(overrides or {}, key=len, reverse=True):
        if name.startswith(model_key(prefix)):
            return (overrides or {})[prefix]
    return next((price for prefix, price in PRICES if name.startswith(prefix)), None)


def parse_prices(value: object) -> dict[str, Price]:
    """The `prices:` key: {model name: {input, cached-input, output}}; raises ValueError naming the fix."""
    example = "e.g. prices: {my-model: {input: 0.5, cached-input: 0.05, output: 1.5}} (dollars per million tokens)"
    if not isinstance(value, dict):
        raise ValueError(f"must map model names to prices, {example}")
    out: dict[str, Price] = {}
    for model, entry in value.items():
        if not isinstance(model, str) or not model.strip():
            raise ValueError(f"has a model name that is not text, {example}")
        if not isinstance(entry, dict):
            raise ValueError(f"entry {model!r} must be a mapping of input, cached-input and output, {example}")
        unknown = sorted(str(k) for k in entry if k not in PRICE_FIELDS)
        if unknown:
            raise ValueError(f"entry {model!r} has unknown field {unknown[0]!r}; use {', '.join(PRICE_FIELDS)}")
        missing = [k for k in ("input", "output") if k not in entry]
        if missing:
            raise ValueError(f"entry {model!r} needs {missing[0]!r}, {example}")
        numbers = {k: _dollars(entry[k], f"entry {model!r}: {k}") for k in entry}
        out[model.strip()] = Price(numbers["input"], numbers.get("cached-input", numbers["input"]), numbers["output"])
    return out


def _dollars(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where} must be a number of dollars per million tokens (got {str(value)[:30]!r})")
    if not 0 <= value <= MAX_PRICE:
        raise ValueError(f"{where} must be between 0 and {MAX_PRICE:,.0f} dollars per million tokens")
    return float(value)


def parse_max_cost(value: object) -> float:
    """`max-cost`: dollars per run, such as 0.50 or "$2"."""
    text = str(value).strip().removeprefix("$").strip()
    try:
        number = float(text)
    except ValueError:
        raise ValueError("must be an amount in US dollars, like 0.50") from None
    if isinstance(value, bool) or not 0 < number <= 100_000:  # nan fails the comparison too
        raise ValueError("must be more than 0 and at most 100000 (US dollars per run)")
    return number


def cost_cap(models: Sequence[str], max_cost: float | None, overrides: Mapping[str, Price]) -> Spend | None:
    """The run's Spend under max-cost (None without a cap), priced at the dearest of the run's models (the
    primary and the fallback) for each kind of token. A cap on a model of unknown price cannot be kept: a
    usage error at once, naming the key that fixes it."""
    if max_cost is None:
        return None
    prices = []
    for model in models:
        price = find_price(model, overrides)
        if price is None:
            raise UsageError(
                f"max-cost is set, but the price of model {model!r} is not known, so no call could be kept under "
                f"it. Add it under `prices:` in .qodo.yml ({model}: {{input: 0.5, cached-input: 0.05, output: 1.5}}"
                ", US dollars per million tokens), or remove max-cost."
            )
        prices.append(price)
    dearest = Price(
        max(p.input for p in prices),
        max(p.cached_input for p in prices),
        max(p.output for p in prices),
        max(p.input if p.cache_write is None else p.cache_write for p in prices),
    )
    return Spend(dearest, max_cost)


def completion_cost(completion: Completion, price: Price | None) -> float | None:
    """One completion's dollars, or None when its model's price is unknown."""
    if price is None:
        return None
    return price.of(
        completion.tokens_in, completion.tokens_cached, completion.tokens_cache_write, completion.tokens_out
    )


def cost_line(usage: Usage, cost: float | None) -> str:
    """'≈ $0.043: 38,210 tokens in (12,004 cached), 2,115 out', or the same with 'cost unknown'."""
    cached = f" ({usage.tokens_cached:,} cached)" if usage.tokens_cached else ""
    head = "cost unknown" if cost is None else f"≈ {dollars(cost)}"
    return f"{head}: {usage.tokens_in:,} tokens in{cached}, {usage.tokens_out:,} out"


def dollars(amount: float) -> str:
    """Cents from a dollar up ($12.34), three decimals down to a cent ($0.043), then two significant digits
    ($0.0012, $0.000015)."""
    if amount >= 1:
        return f"${amount:,.2f}"
    if amount == 0:
        return "$0"
    if amount >= 0.01:
        return f"${amount:.3f}"
    return f"${amount:.{1 - math.floor(math.log10(amount))}f}"  # two significant digits, never 1.5e-05


class Spend:
    """The run's money: spent (from each completion's usage) plus reserved (calls in flight, at their upper
    estimate). ``admit`` decides before each call whether it may go without the total passing max-cost."""

    def __init__(self, price: Price, limit: float) -> None:
        self.price, self.limit = price, limit
        self.spent = 0.0
        self._reserved = 0.0
        self._lock = threading.Lock()
        self.refused = 0  # calls not made because of the cap
        self.next_estimate = 0.0  # the estimate of the first call refused (for the reason shown)

    def estimate(self, prompt: Prompt) -> float:
        """The most one call can cost: its prompt (an estimate that runs 1.0-1.6x high) at the input price or,
        dearer, the cache-write price, and its answer at the output cap."""
        price = self.price
        write = price.input if price.cache_write is None else max(price.input, price.cache_write)
        return (prompt.tokens_estimate * write + prompt.max_output_tokens * price.output) / MILLION

    def admit(self, prompt: Prompt) -> float | None:
        """Reserve the call's estimate and return it, or None (and no call) when it could pass the cap."""
        estimate = self.estimate(prompt)
        with self._lock:
            if self.spent + self._reserved + estimate > self.limit:
                self.refused += 1
                self.next_estimate = self.next_estimate or estimate
                return None
            self._reserved += estimate
            return estimate

    def record(self, completion: Completion, cost: float | None = None) -> None:
        """What a completion (an answer, a re-ask) actually cost: ``cost`` at its own model's price, else at
        the cap's price."""
        if cost is None:
            cost = completion_cost(completion, self.price) or 0.0
        with self._lock:
            self.spent += cost

    def release(self, reserved: float) -> None:
        """The call is over: its reservation gives way to what record() counted."""
        with self._lock:
            self._reserved = max(0.0, self._reserved - reserved)

    def reason(self) -> str:
        """Why a part was not reviewed: one fixed text per run, so coverage counts the files under one reason
        (a hard one: allow-partial never accepts it)."""
        return f"max-cost ({dollars(self.limit)}) would have been passed by its model call"

    def notice(self) -> str:
        """The run's account of the cap, for the notices: spent, and what the first refused call could cost."""
        return (
            f"max-cost {dollars(self.limit)}: {self.refused} model call{'s' if self.refused != 1 else ''} not "
            f"made ({dollars(self.spent)} spent; the next call could cost up to {dollars(self.next_estimate)})."
        )


class Meter:
    """The run's cost: each completion (answers and re-asks) priced at its own model's price, as the retry
    policy names the model that answered (the fallback's may differ), and the max-cost Spend, if any. Shared by
    the parallel calls."""

    def __init__(self, models: Sequence[str], max_cost: float | None, overrides: Mapping[str, Price]) -> None:
        self.model, self.overrides = (models[0] if models else ""), overrides
        self.spend = cost_cap(models, max_cost, overrides)
        self._costs: list[float | None] = []
        self._lock = threading.Lock()

    def record(self, completion: Completion) -> None:
        cost = completion_cost(completion, find_price(completion.model, self.overrides))
        with self._lock:
            self._costs.append(cost)
        if self.spend is not None:
            self.spend.record(completion, cost)

    def total(self) -> float | None:
        """US dollars, or None when any answer's price is unknown; no answer: $0 at a known price, else None."""
        with self._lock:
            costs = list(self._costs)
        if not costs:
            return 0.0 if find_price(self.model, self.overrides) is not None else None
        return None if None in costs else sum(c for c in costs if c is not None)
