"""Forecast settings (env prefix TANDEM_FORECAST_)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.retraining import RetrainSettings
from shared.settings import ServiceSettings


class ForecastSettings(ServiceSettings, RetrainSettings):
    model_config = SettingsConfigDict(env_prefix="TANDEM_FORECAST_", extra="ignore", env_file=".env")

    service_name: str = "forecast"
    port: int = 8003
    default_format: str = Field(
        "post", description="Content format forecast for an approval when none is given."
    )
    shared_learning_orgs: list[str] = Field(
        default_factory=list,
        description="Organisations that opted in to let their results retrain the pooled model every "
        "organisation's forecasts start from ('*' = all, for a single-tenant install; JSON list in the "
        "environment). Every organisation's own results adapt its own forecasts either way.",
    )
    retrain_every_results: int = Field(
        500, ge=0, description="Retrain the forecast model after this many new scored results (0 = never)."
    )
    error_drift_window: int = Field(
        2_000, ge=10, description="Latest scored results the error drift is measured on."
    )
    error_drift_mdape: float = Field(
        0.6, gt=0, description="Median absolute % error of a market/platform segment that raises an alert."
    )
    error_drift_min_results: int = Field(
        30, ge=1, description="Fewest results in a segment before it can alert."
    )
    error_drift_interval_s: float = Field(60.0, gt=0, description="How often error drift is measured.")
