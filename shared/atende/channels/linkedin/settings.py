"""LinkedIn settings and secret names, kept with the channel so a new channel touches only
its own package."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Signs the GET challenge answer and every POST (X-LI-Signature).
CLIENT_SECRET = "LINKEDIN_CLIENT_SECRET"  # noqa: S105 - a secret name
#: OAuth token of an organization administrator (w_organization_social), for comment replies.
ACCESS_TOKEN = "LINKEDIN_ACCESS_TOKEN"  # noqa: S105 - a secret name


class LinkedInSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ATENDE_LINKEDIN_", env_file=".env", extra="ignore", frozen=True
    )

    #: Organization URN (urn:li:organization:…) -> tenant id: the only source of a
    #: LinkedIn event's tenant.
    tenants: dict[str, str] = Field(default_factory=dict)
    api_base_url: str = "https://api.linkedin.com"
    #: The `LinkedIn-Version` header (YYYYMM); LinkedIn supports a version about a year.
    api_version: str = Field(default="202609", pattern=r"^\d{6}$")
