"""FastAPI peer of financial-api-server, for `make bench-api` (bench/api/run-api-bench.sh).

The endpoints the benchmark measures, written the way a Python team would: FastAPI on uvicorn, an
asyncpg pool, redis-py's asyncio client for cache-aside (same TTL and key scheme as the C++ server:
`fapi:v1:<path>?<sorted query>`, only 200 answers stored), plain dicts serialized with orjson. The
answers follow docs/api.md over api-server/store/migrations/001_initial.sql and are meant to be
content-equal to the C++ server's (the driver compares them before measuring).

Endpoints: /health, /v1/companies/{id}, /v1/companies/{id}/concepts/{taxonomy}/{tag},
/v1/frames/{taxonomy}/{tag}/{unit}/{period}, /v1/companies/{id}/statements/{statement}.

Environment: DATABASE_URL (required), REDIS_URL (unset = no cache), CACHE_TTL_SECONDS (300; 0 = off),
DB_POOL_SIZE (per worker process, default 10).
Run: uvicorn app:app --workers 2 --loop uvloop --http httptools --no-access-log
"""
import contextlib
import datetime
import decimal
import os
import re
from urllib.parse import urlencode

import asyncpg
import orjson
import redis.asyncio as aioredis
from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

DATABASE_URL = os.environ["DATABASE_URL"]
REDIS_URL = os.environ.get("REDIS_URL") or None
CACHE_TTL = int(os.environ.get("CACHE_TTL_SECONDS", "300"))
DB_POOL_SIZE = int(os.environ.get("DB_POOL_SIZE", "10"))
JSON = "application/json"

db: asyncpg.Pool | None = None
cache: aioredis.Redis | None = None


async def _init_connection(conn):
    await conn.set_type_codec("jsonb", encoder=lambda v: orjson.dumps(v).decode(), decoder=orjson.loads,
                              schema="pg_catalog")


@contextlib.asynccontextmanager
async def lifespan(_app):
    global db, cache
    db = await asyncpg.create_pool(DATABASE_URL, min_size=2, max_size=DB_POOL_SIZE, init=_init_connection)
    if REDIS_URL and CACHE_TTL > 0:
        cache = aioredis.from_url(REDIS_URL)
    yield
    if cache is not None:
        await cache.aclose()
    await db.close()


app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
app.add_middleware(GZipMiddleware, minimum_size=1024)  # docs/api.md: bodies of 1 KiB or more


# --- errors -------------------------------------------------------------------------------------------

class ApiError(Exception):
    def __init__(self, code: int, message: str):
        self.code, self.message = code, message


def _error(code: int, message: str) -> Response:
    return Response(orjson.dumps({"error": {"code": code, "message": message}}), status_code=code, media_type=JSON)


@app.exception_handler(ApiError)
async def _api_error(_request, exc: ApiError):
    return _error(exc.code, exc.message)


@app.exception_handler(StarletteHTTPException)
async def _http_error(_request, exc: StarletteHTTPException):
    return _error(exc.status_code, "no such path" if exc.status_code == 404 else str(exc.detail))


# --- helpers ------------------------------------------------------------------------------------------

def _json_number(v: decimal.Decimal):
    """numeric → an integer when SEC wrote one, else a float (7.46)."""
    return int(v) if v.as_tuple().exponent >= 0 else float(v)


def _date(d: datetime.date | None):
    return d.isoformat() if d is not None else None


async def cached(request: Request, compute) -> Response:
    """Cache-aside: Redis first, else compute (→ JSON-able dict) and store the body for CACHE_TTL."""
    if cache is None:
        return Response(orjson.dumps(await compute()), media_type=JSON)
    query = urlencode(sorted(request.query_params.multi_items()))
    key = "fapi:v1:" + request.url.path + ("?" + query if query else "")
    try:
        body = await cache.get(key)
    except aioredis.RedisError:
        body = None
    if body is None:
        body = orjson.dumps(await compute())
        with contextlib.suppress(aioredis.RedisError):
            await cache.set(key, body, ex=CACHE_TTL)
    return Response(body, media_type=JSON)


TICKER_RE = re.compile(r"^[A-Za-z0-9.\-]{1,10}$")
CIK_RE = re.compile(r"^(?:CIK)?(\d{1,10})$", re.IGNORECASE)
TAXONOMY_RE = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
TAG_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,199}$")
UNIT_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
FRAME_RE = re.compile(r"^CY(\d{4})(Q[1-4]I?)?$")


async def resolve_company(conn, ident: str) -> int:
    """A ticker or a CIK (320193, 0000320193, CIK0000320193) → the CIK of a loaded company."""
    m = CIK_RE.match(ident)
    if m:
        cik = await conn.fetchval("SELECT cik FROM companies WHERE cik = $1", int(m.group(1)))
    elif TICKER_RE.match(ident):
        cik = await conn.fetchval("SELECT cik FROM tickers WHERE ticker = $1", ident.upper())
    else:
        raise ApiError(400, f"id: '{ident}' is neither a ticker nor a CIK")
    if cik is None:
        raise ApiError(404, f"id: no company '{ident}'")
    return cik


def check(regex, value: str, name: str):
    if not regex.match(value):
        raise ApiError(400, f"{name}: malformed '{value}'")


def fact_json(r) -> dict:
    fact = {}
    if r["start_date"] is not None:
        fact["start"] = r["start_date"].isoformat()
    fact.update({"end": r["end_date"].isoformat(), "val": _json_number(r["val"]), "accn": r["accn"],
                 "fy": r["fy"], "fp": r["fp"], "form": r["form"], "filed": r["filed"].isoformat()})
    if r["frame"] is not None:
        fact["frame"] = r["frame"]
    return fact


# --- endpoints ----------------------------------------------------------------------------------------

@app.get("/health")
async def health():
    return Response(b'{"status":"ok"}', media_type=JSON)


@app.get("/v1/companies/{ident}")
async def company_profile(request: Request, ident: str):
    async def compute():
        async with db.acquire() as conn:
            cik = await resolve_company(conn, ident)
            row = await conn.fetchrow(
                """SELECT c.cik, c.name, c.submissions_profile, c.facts_entity_name,
                          (SELECT coalesce(array_agg(t.ticker ORDER BY t.position), '{}')
                             FROM tickers t WHERE t.cik = c.cik) AS tickers,
                          (SELECT count(*) FROM filings f WHERE f.cik = c.cik) AS filing_count
                     FROM companies c WHERE c.cik = $1""", cik)
        # Profile fields come from the submissions document (null when none is loaded); the tickers from
        # it too, else from company_tickers.json.
        p = row["submissions_profile"] or {}
        return {
            "cik": row["cik"], "cikPadded": f"{row['cik']:010d}", "name": row["name"],
            "tickers": p.get("tickers", list(row["tickers"])), "exchanges": p.get("exchanges", []),
            "sic": p.get("sic"), "sicDescription": p.get("sicDescription"), "entityType": p.get("entityType"),
            "category": p.get("category"), "fiscalYearEnd": p.get("fiscalYearEnd"),
            "stateOfIncorporation": p.get("stateOfIncorporation"), "ein": p.get("ein"), "phone": p.get("phone"),
            "website": p.get("website"), "addresses": p.get("addresses"), "formerNames": p.get("formerNames"),
            "hasFacts": row["facts_entity_name"] is not None, "hasSubmissions": row["submissions_profile"] is not None,
            "filingCount": row["filing_count"],
        }
    return await cached(request, compute)


@app.get("/v1/companies/{ident}/concepts/{taxonomy}/{tag}")
async def company_concept(request: Request, ident: str, taxonomy: str, tag: str):
    check(TAXONOMY_RE, taxonomy, "taxonomy")
    check(TAG_RE, tag, "tag")

    async def compute():
        async with db.acquire() as conn:
            cik = await resolve_company(conn, ident)
            concept = await conn.fetchrow(
                """SELECT cc.concept_id, cc.label, cc.description, c.facts_entity_name
                     FROM company_concepts cc
                     JOIN concepts k ON k.id = cc.concept_id
                     JOIN companies c ON c.cik = cc.cik
                    WHERE cc.cik = $1 AND k.taxonomy = $2 AND k.tag = $3""", cik, taxonomy, tag)
            if concept is None:
                raise ApiError(404, f"tag: company {cik} reports no {taxonomy}:{tag}")
            facts = await conn.fetch(
                """SELECT unit, start_date, end_date, val, accn, fy, fp, form, filed, frame
                     FROM facts WHERE cik = $1 AND concept_id = $2
                    ORDER BY unit_position, position""", cik, concept["concept_id"])
        units: dict[str, list] = {}
        for r in facts:
            units.setdefault(r["unit"], []).append(fact_json(r))
        return {"cik": cik, "taxonomy": taxonomy, "tag": tag, "label": concept["label"],
                "description": concept["description"], "entityName": concept["facts_entity_name"], "units": units}
    return await cached(request, compute)


# EDGAR's stateOrCountry: two letters for US states (SEC's frames write "US-CA"); other codes have a digit.
US_STATE_RE = re.compile(r"^[A-Za-z]{2}$")


@app.get("/v1/frames/{taxonomy}/{tag}/{unit}/{period}")
async def frame(request: Request, taxonomy: str, tag: str, unit: str, period: str):
    check(TAXONOMY_RE, taxonomy, "taxonomy")
    check(TAG_RE, tag, "tag")
    check(UNIT_RE, unit, "unit")
    check(FRAME_RE, period, "period")
    uom = unit.replace("-per-", "/")

    async def compute():
        async with db.acquire() as conn:
            rows = await conn.fetch(
                """SELECT DISTINCT ON (f.cik) f.accn, f.cik, coalesce(c.facts_entity_name, c.name) AS entity_name,
                          c.business_location,
                          f.start_date, f.end_date, f.val, cc.label, cc.description
                     FROM facts f
                     JOIN concepts k ON k.id = f.concept_id
                     JOIN companies c ON c.cik = f.cik
                     JOIN company_concepts cc ON cc.cik = f.cik AND cc.concept_id = f.concept_id
                    WHERE k.taxonomy = $1 AND k.tag = $2 AND f.unit = $3 AND f.frame = $4
                    ORDER BY f.cik, f.filed DESC""", taxonomy, tag, uom, period)
        if not rows:
            raise ApiError(404, f"no {taxonomy}:{tag} in {uom} for {period}")
        data = []
        for r in rows:
            loc = r["business_location"] or ""  # "" when no submissions document gave an address
            point = {"accn": r["accn"], "cik": r["cik"], "entityName": r["entity_name"],
                     "loc": (f"US-{loc}" if US_STATE_RE.match(loc) else loc)}
            if r["start_date"] is not None:
                point["start"] = r["start_date"].isoformat()
            point.update({"end": r["end_date"].isoformat(), "val": _json_number(r["val"])})
            data.append(point)
        return {"taxonomy": taxonomy, "tag": tag, "ccp": period, "uom": uom, "label": rows[0]["label"],
                "description": rows[0]["description"], "pts": len(data), "data": data}
    return await cached(request, compute)


# Standardized statements (docs/api.md): line item → concept chain, us-gaap first then ifrs-full.
G, I = "us-gaap:", "ifrs-full:"
STATEMENTS = {
    "income": {
        "revenue": [G + "Revenues", G + "RevenueFromContractWithCustomerExcludingAssessedTax",
                    G + "RevenueFromContractWithCustomerIncludingAssessedTax", G + "SalesRevenueNet", I + "Revenue"],
        "costOfRevenue": [G + "CostOfRevenue", G + "CostOfGoodsAndServicesSold", G + "CostOfGoodsSold", I + "CostOfSales"],
        "grossProfit": [G + "GrossProfit", I + "GrossProfit"],
        "researchAndDevelopment": [G + "ResearchAndDevelopmentExpense"],
        "sellingGeneralAdministrative": [G + "SellingGeneralAndAdministrativeExpense"],
        "operatingExpenses": [G + "OperatingExpenses", G + "CostsAndExpenses"],
        "operatingIncome": [G + "OperatingIncomeLoss", I + "ProfitLossFromOperatingActivities"],
        "incomeTaxExpense": [G + "IncomeTaxExpenseBenefit", I + "IncomeTaxExpenseContinuingOperations"],
        "netIncome": [G + "NetIncomeLoss", G + "ProfitLoss", I + "ProfitLoss"],
        "epsBasic": [G + "EarningsPerShareBasic", I + "BasicEarningsLossPerShare"],
        "epsDiluted": [G + "EarningsPerShareDiluted", I + "DilutedEarningsLossPerShare"],
    },
    "balance": {
        "cash": [G + "CashAndCashEquivalentsAtCarryingValue", I + "CashAndCashEquivalents"],
        "currentAssets": [G + "AssetsCurrent", I + "CurrentAssets"],
        "totalAssets": [G + "Assets", I + "Assets"],
        "currentLiabilities": [G + "LiabilitiesCurrent", I + "CurrentLiabilities"],
        "totalLiabilities": [G + "Liabilities", I + "Liabilities"],
        "longTermDebt": [G + "LongTermDebtNoncurrent", G + "LongTermDebt", I + "NoncurrentPortionOfNoncurrentLoansReceived"],
        "stockholdersEquity": [G + "StockholdersEquity",
                               G + "StockholdersEquityIncludingPortionAttributableToNoncontrollingInterest", I + "Equity"],
        "liabilitiesAndEquity": [G + "LiabilitiesAndStockholdersEquity", I + "EquityAndLiabilities"],
    },
    "cashflow": {
        "operatingCashFlow": [G + "NetCashProvidedByUsedInOperatingActivities", I + "CashFlowsFromUsedInOperatingActivities"],
        "investingCashFlow": [G + "NetCashProvidedByUsedInInvestingActivities", I + "CashFlowsFromUsedInInvestingActivities"],
        "financingCashFlow": [G + "NetCashProvidedByUsedInFinancingActivities", I + "CashFlowsFromUsedInFinancingActivities"],
        "capitalExpenditure": [G + "PaymentsToAcquirePropertyPlantAndEquipment",
                               I + "PurchaseOfPropertyPlantAndEquipmentClassifiedAsInvestingActivities"],
        "dividendsPaid": [G + "PaymentsOfDividends", G + "PaymentsOfDividendsCommonStock",
                          I + "DividendsPaidClassifiedAsFinancingActivities"],
        "shareRepurchases": [G + "PaymentsForRepurchaseOfCommonStock"],
    },
}
PER_SHARE = {"epsBasic", "epsDiluted"}
ANNUAL_FORMS = {"10-K", "10-K/A", "10-KT", "10-KT/A", "20-F", "20-F/A", "40-F", "40-F/A"}
PERIODIC_FORMS = ANNUAL_FORMS | {"10-Q", "10-Q/A", "6-K", "6-K/A"}
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


def in_period(r, instants: bool, annual: bool) -> bool:
    """Balance items: instants (annual: those of an annual report's fiscal year end). Others: durations of
    350-380 days (annual) or 80-100 days (quarterly; 10-Q year-to-date values fall outside)."""
    if instants:
        if r["start_date"] is not None:
            return False
        return (r["form"] in ANNUAL_FORMS and r["fp"] == "FY") if annual else r["form"] in PERIODIC_FORMS
    if r["start_date"] is None:
        return False
    days = (r["end_date"] - r["start_date"]).days
    return 350 <= days <= 380 if annual else 80 <= days <= 100


def statement_currency(facts) -> str:
    """USD when the company reports it, else its most used ISO currency."""
    counts: dict[str, int] = {}
    for r in facts:
        if r["unit"] == "USD":
            return "USD"
        if CURRENCY_RE.match(r["unit"]):
            counts[r["unit"]] = counts.get(r["unit"], 0) + 1
    return max(sorted(counts), key=lambda u: counts[u], default="")


@app.get("/v1/companies/{ident}/statements/{statement}")
async def statement(request: Request, ident: str, statement: str, period: str = "annual", limit: str = "10"):
    if statement not in STATEMENTS:
        raise ApiError(400, f"statement: no statement '{statement}' (income, balance, cashflow)")
    if period not in ("annual", "quarterly"):
        raise ApiError(400, f"period: '{period}' is neither annual nor quarterly")
    if not re.fullmatch(r"\d{1,3}", limit) or not 1 <= int(limit) <= 40:
        raise ApiError(400, f"limit: '{limit}' is not in 1..40")
    items = STATEMENTS[statement]
    instants, annual = statement == "balance", period == "annual"

    async def compute():
        async with db.acquire() as conn:
            cik = await resolve_company(conn, ident)
            company = await conn.fetchrow("SELECT cik, name FROM companies WHERE cik = $1", cik)
            facts = await conn.fetch(
                """SELECT k.taxonomy || ':' || k.tag AS concept, f.unit, f.start_date, f.end_date, f.val,
                          f.accn, f.fy, f.fp, f.form, f.filed
                     FROM facts f JOIN concepts k ON k.id = f.concept_id
                    WHERE f.cik = $1 AND k.taxonomy || ':' || k.tag = ANY($2::text[])
                    ORDER BY f.filed, f.concept_id, f.unit_position, f.position""",
                cik, [c for chain in items.values() for c in chain])
        currency = statement_currency(facts)

        # (concept, period) → [latest filing's fact, first filing's fact], in the item's unit. Rows come
        # in filing order: the last one seen is the latest (restatements win), the first the earliest.
        units = {c: (f"{currency}/shares" if item in PER_SHARE else currency)
                 for item, chain in items.items() for c in chain}
        found: dict[tuple, list] = {}
        for r in facts:
            if r["unit"] != units[r["concept"]] or not in_period(r, instants, annual):
                continue
            key = (r["concept"], r["end_date"], r["start_date"])
            if key in found:
                found[key][0] = r
            else:
                found[key] = [r, r]
        periods = sorted({(end, start) for _, end, start in found},
                         key=lambda k: (k[0], k[1] or datetime.date.min), reverse=True)
        if not periods:
            raise ApiError(404, f"no {period} {statement} statement data for CIK {cik:010d}")

        out = []
        for end, start in periods[:int(limit)]:
            line_items, source, first = {}, None, None
            for item, chain in items.items():
                for concept in chain:
                    hit = found.get((concept, end, start))
                    if hit is None:
                        continue
                    latest, earliest = hit
                    line_items[item] = {"value": _json_number(latest["val"]), "unit": latest["unit"], "concept": concept}
                    source = source or latest
                    if first is None or earliest["filed"] < first["filed"]:
                        first = earliest
                    break
            p = {"fiscalYear": first["fy"], "fiscalPeriod": "FY" if annual else first["fp"]}
            if start is not None:
                p["start"] = start.isoformat()
            p.update({"end": end.isoformat(), "form": source["form"], "filed": source["filed"].isoformat(),
                      "accn": source["accn"], "items": line_items})
            out.append(p)
        return {"cik": cik, "entityName": company["name"], "statement": statement, "period": period,
                "currency": currency, "periods": out}
    return await cached(request, compute)
