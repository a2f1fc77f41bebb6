from tests.facilities.conftest import (  # noqa: F401
    civil_user,
    community,
    finance_user,
    other_community,
    unit_user,
)
