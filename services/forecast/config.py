"""Forecast settings (env prefix TANDEM_FORECAST_)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class ForecastSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TANDEM_FORECAST_", extra="ignore", env_file=".env")

    service_name: str = "forecast"
    port: int = 8003
    default_format: str = Field(
        "post", description="Content format forecast for an approval when none is given."
    )
