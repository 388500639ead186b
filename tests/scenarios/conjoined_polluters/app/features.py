"""Feature flags and a theme cache: a page renders 'fancy' only with both in place."""

FLAGS: dict[str, bool] = {}
THEME_CACHE: dict[str, str] = {}


def enable(flag: str) -> None:
    FLAGS[flag] = True


def remember_theme(user: str, theme: str) -> None:
    THEME_CACHE[user] = theme


def render_dashboard(user: str) -> str:
    if FLAGS.get("beta_dashboard") and user in THEME_CACHE:
        return f"fancy:{THEME_CACHE[user]}"
    return "plain"
