"""What every browser journey does first: sign in as a user made by tests/conftest.py (its password is PASSWORD)."""

PASSWORD = "Lianhu#2024pass"


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    assert "/login/" not in page.url, f"{username} could not log in: {page.inner_text('body')[:300]}"
