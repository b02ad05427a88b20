"""What a classroom tells each trainee's dashboard process, by environment variable (never on its command
line, which ``ps`` shows). Its own module so the trainee's process reads the names without importing the
classroom's web server (aiohttp: ~10 MB and 80 ms in each of thirty processes)."""

ENV_API = "BULKDASH_CLASSROOM_API"  # the classroom's API on loopback
ENV_SECRET = "BULKDASH_CLASSROOM_SECRET"  # the trainee's secret (their browser's cookie)
ENV_WORLD = "BULKDASH_CLASSROOM_WORLD"  # the root of the trainee's world on the hub
ENV_WORLD_TOKEN = "BULKDASH_CLASSROOM_WORLD_TOKEN"  # that world's control token
ENV_SPEED = "BULKDASH_CLASSROOM_SPEED"  # the worlds' playback speed

__all__ = ["ENV_API", "ENV_SECRET", "ENV_SPEED", "ENV_WORLD", "ENV_WORLD_TOKEN"]
