"""Placeholder until scripts/snapshot_litellm_catalog.py generates this module."""

LITELLM_VERSION = "1.108.7"
KNOWN_PROVIDERS: frozenset[str] = frozenset(
    {"openai", "anthropic", "azure", "azure_ai", "bedrock", "vertex_ai", "gemini", "groq",
     "mistral", "ollama", "ollama_chat", "openrouter", "deepseek", "together_ai", "cohere",
     "hosted_vllm", "xai", "cerebras", "perplexity", "huggingface", "fireworks_ai"}
)
