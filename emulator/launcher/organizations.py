"""Organizations: suspended member accounts and accounts pending closure."""

from .registry import patch
from .settings import SETTINGS


@patch("organizations-suspended-accounts")
def _organizations_suspended_accounts() -> None:
    """AWS (Organizations API reference, Account): an organization's member account can be
    SUSPENDED (closed, or suspended by AWS) or PENDING_CLOSURE (a CloseAccount request in
    progress: "While the close account request is in progress, Account status will indicate
    PENDING_CLOSURE. When the close account request completes, the status will change to
    SUSPENDED", CloseAccount); DescribeAccount, ListAccounts and ListAccountsForParent then show it
    in both `Status` (ACTIVE | SUSPENDED | PENDING_CLOSURE, "will be retired on September 9,
    2026") and `State` (PENDING_ACTIVATION | ACTIVE | SUSPENDED | PENDING_CLOSURE | CLOSED).
    Settings `suspended_accounts` and `pending_closure_accounts` (an account in both is SUSPENDED,
    the later state). moto: every account is ACTIVE and nothing but its own CloseAccount (straight
    to SUSPENDED) changes it."""
    from moto.organizations.models import FakeAccount

    def account_field(name: str) -> property:
        def get(self) -> str:
            if self.id in SETTINGS["suspended_accounts"]:
                return "SUSPENDED"
            if self.id in SETTINGS["pending_closure_accounts"]:
                return "PENDING_CLOSURE"
            return self.__dict__.get(f"_pw_{name}", "ACTIVE")

        def put(self, value: str) -> None:
            self.__dict__[f"_pw_{name}"] = value

        return property(get, put)

    FakeAccount.status = account_field("status")
    FakeAccount.state = account_field("state")
