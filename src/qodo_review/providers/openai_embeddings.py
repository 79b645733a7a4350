"""The OpenAI embeddings endpoint (/embeddings), for /similar_issue's opt-in ranking: the same host, key and
client as the chat adapter (an OpenAI-compatible server's own embeddings model works too)."""

from __future__ import annotations

from collections.abc import Sequence

import openai

from ..errors import AnswerError, ProviderError
from . import ProviderSettings
from .openai_chat import OpenAIChat

# OpenAI's text-embedding-3 models shorten their vectors on request ("dimensions"); 512 keeps most of the
# quality (OpenAI's announcement: 256 dimensions of -3-large still beat ada-002's 1,536) and makes the pure-Python
# cosines over 2,000 issues three times cheaper. Compatible servers get no such parameter.
DIMENSIONS = 512


class OpenAIEmbeddings(OpenAIChat):
    """``embed`` sends texts (already redacted by the caller) and returns one vector per text, in order."""

    def __init__(self, settings: ProviderSettings, model: str) -> None:
        super().__init__(settings)
        self._model = model

    def embed(self, texts: Sequence[str]) -> tuple[list[list[float]], int]:
        """(vectors, tokens billed), one vector per text; raises our ProviderErrors like the chat adapter."""
        with self._client() as client:
            try:
                response = client.embeddings.create(
                    model=self._model,
                    input=list(texts),
                    encoding_format="float",
                    dimensions=DIMENSIONS if self._settings.kind == "openai" and "-3-" in self._model else openai.omit,
                )
            except openai.OpenAIError as err:
                raise self._error(err) from None
            except ValueError:  # a 200 whose body is not JSON
                raise self._not_json() from None
        try:
            rows = sorted(response.data, key=lambda d: d.index)
            vectors = [[float(x) for x in row.embedding] for row in rows]
            tokens = int(response.usage.prompt_tokens) if response.usage else 0
        except (TypeError, AttributeError, ValueError):
            raise AnswerError(f"{self._host} answered in an unexpected shape (not a list of embeddings).") from None
        if len(vectors) != len(texts):
            raise AnswerError(f"{self._host} returned {len(vectors)} embeddings for {len(texts)} texts.")
        return vectors, tokens


def embeddings_for(settings: ProviderSettings, model: str) -> OpenAIEmbeddings:
    if settings.kind not in ("openai", "openai-compatible"):
        raise ProviderError(f"The {settings.kind} provider has no embeddings endpoint.")
    return OpenAIEmbeddings(settings, model)
