"""The four services as the command line knows them: settings class, app factory, migrations."""

from __future__ import annotations

from dataclasses import dataclass

from services.discovery.app import SPEC as DISCOVERY
from services.discovery.config import DiscoverySettings
from services.forecast.app import SPEC as FORECAST
from services.forecast.config import ForecastSettings
from services.fraud.app import SPEC as FRAUD
from services.fraud.config import FraudSettings
from services.review.app import SPEC as REVIEW
from services.review.config import ReviewSettings
from shared.runtime import ServiceSpec
from shared.settings import ServiceSettings


@dataclass(frozen=True)
class ServiceEntry:
    spec: ServiceSpec
    settings: type[ServiceSettings]

    @property
    def factory(self) -> str:
        return f"services.{self.spec.name}.app:build"

    @property
    def env_prefix(self) -> str:
        return str(self.settings.model_config.get("env_prefix", ""))


SERVICES: dict[str, ServiceEntry] = {
    "discovery": ServiceEntry(DISCOVERY, DiscoverySettings),
    "fraud": ServiceEntry(FRAUD, FraudSettings),
    "review": ServiceEntry(REVIEW, ReviewSettings),
    "forecast": ServiceEntry(FORECAST, ForecastSettings),
}
