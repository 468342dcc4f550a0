"""GET /api/v1/places/divisions: the deployment county's townships and their communities, for the draft
form's place picker (a ticket typed without a call, or a place the recogniser did not catch)."""

from __future__ import annotations

import asyncio

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from gateway.http.api import add_endpoints, endpoint
from gateway.http.jsonio import json_response
from gateway.understanding.dispatch import ResponsibilityList
from gateway.understanding.places import Gazetteer
from gateway.understanding.shared import UNDERSTANDING

# The county's division list on its own, built on first need when the pipeline has not loaded yet: the
# picker must not wait for the model (its first load trains it, seconds of CPU).
GAZETTEER = web.AppKey("places_gazetteer", list)


class Township(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    communities: list[str]


class Divisions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    province: str
    city: str
    county: str
    townships: list[Township]


@endpoint("GET", "/places/divisions", summary="The county's townships (乡镇/街道) and communities (村/社区)",
          kinds=("agent", "admin"), scope="tickets", response=Divisions, tags=("understanding",))
async def divisions(request: web.Request) -> web.Response:
    """The same division list the drafts resolve places against (jionlp's, for the deployment's county),
    so a place picked by hand and a place heard read alike in hot issues and reports."""
    gazetteer = await _gazetteer(request.app)
    townships: dict[str, list[str]] = {town: [] for town in dict.fromkeys(gazetteer.towns.values())}
    for full, town in dict.fromkeys(gazetteer.communities.values()):
        townships.setdefault(town, []).append(full)
    region = gazetteer.region
    return json_response({"province": region.province, "city": region.city, "county": region.county,
                          "townships": [{"name": t, "communities": c} for t, c in townships.items()]})


async def _gazetteer(app: web.Application) -> Gazetteer:
    loaded = app[UNDERSTANDING].loaded
    if loaded is not None:
        return loaded.places.gazetteer
    built: list[Gazetteer] = app[GAZETTEER]
    if not built:
        gazetteer = await asyncio.get_running_loop().run_in_executor(
            None, lambda: Gazetteer(ResponsibilityList.load().region))
        if not built:  # another request may have built it meanwhile
            built.append(gazetteer)
    return built[0]


def setup(app: web.Application) -> None:
    app[GAZETTEER] = []
    add_endpoints(app, divisions)
