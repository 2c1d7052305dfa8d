"""Countries, US states and continents by name (ISO 3166, from pycountry): the names that answer
"which country", "which state", "which continent".

A news sentence often names the place by its adjective ("Saudi Arabian officials", "the Ukrainian
first lady") or inside another name ("Brothers of Italy"); ``place_named`` finds the place in both.
"""

from __future__ import annotations

import re
from functools import cache

# Nouns of a question asking for one of these places ("Which state has…", "What country…").
PLACE_NOUNS = {"country", "countries", "nation", "nations", "state", "states", "continent"}
CONTINENTS = ("Africa", "Antarctica", "Asia", "Europe", "North America", "South America", "Oceania")
# Names news uses that ISO 3166 does not, with the name a place is answered by ("the UK" → United Kingdom).
COMMON_NAMES = {"Russia": "Russia", "Britain": "United Kingdom", "Great Britain": "United Kingdom", "UK": "United Kingdom",
                "US": "United States", "USA": "United States", "England": "England", "Scotland": "Scotland", "Wales": "Wales"}


@cache
def places() -> frozenset[str]:
    import pycountry  # 20 ms: only when a question asks for a place

    names: set[str] = set(CONTINENTS) | set(COMMON_NAMES) | set(COMMON_NAMES.values())
    for country in pycountry.countries:
        names.add(country.name.split(",")[0])  # "Korea, Republic of" → "Korea"
        if hasattr(country, "common_name"):  # "North Korea", "Vietnam"
            names.add(country.common_name)
    names.update(state.name for state in pycountry.subdivisions.get(country_code="US") or [])
    return frozenset(names)


def place_named(span: str) -> str:
    """The country, US state or continent ``span`` names: itself ("Sri Lanka", "the UK" → "United
    Kingdom"), the place its adjective comes from ("Saudi Arabian" → "Saudi Arabia", "Ukrainian" →
    "Ukraine", "North Korean leader" → "North Korea"), or one that ends it ("Brothers of Italy" → "Italy";
    not "US Geological Survey", an agency); "" when it names none."""
    known = places()
    words = span.split()
    for size in range(len(words), 0, -1):  # the longest run first: "North Korea" before "Korea"
        run = " ".join(words[-size:])
        if run in known:
            return COMMON_NAMES.get(run, run)
        run = " ".join(words[:size])
        adjective = _place_of_adjective(run, known)
        if adjective:
            return COMMON_NAMES.get(adjective, adjective)
    return ""


def _place_of_adjective(word: str, known: frozenset[str]) -> str:
    """"Saudi Arabian" → "Saudi Arabia": the place whose name, less a final vowel or y, begins the
    adjective, which ends in -n, -an, -ian or -ese ("Colombian", "Italian", "Chinese")."""
    match = re.fullmatch(r"(.{3,}?)(?:ian|an|n|ese)", word)
    if not match:
        return ""
    root = match.group(1)
    return next((place for place in _shortest_first(known) if place.rstrip("aeiouy") in (root, root.rstrip("aeiouy")) and len(place) > 3), "")


@cache
def _shortest_first(known: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(known, key=lambda place: (len(place), place)))
