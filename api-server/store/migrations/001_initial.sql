-- The SEC EDGAR data the API serves. One loader transaction replaces everything of one document, so
-- rows of one company are never half old, half new. Source order is kept (position columns) so the
-- SEC-compatible endpoints give back documents equal to the ones loaded.

CREATE TABLE companies (
  cik                  bigint PRIMARY KEY,
  name                 text NOT NULL,
  -- lower(name) for the prefix search (text_pattern_ops index below answers LIKE 'abc%').
  name_lower           text GENERATED ALWAYS AS (lower(name)) STORED,
  sic                  text,
  sic_description      text,
  entity_type          text,
  category             text,
  fiscal_year_end      text,
  state_of_incorporation text,
  -- stateOrCountry of the business address: the frames' "loc" is "US-" || it for US states.
  business_location    text,
  -- The submissions document without "filings" (null until one is loaded), its filings.files and the
  -- column names of its filings.recent, in order.
  submissions_profile  jsonb,
  submissions_files    jsonb,
  submissions_columns  jsonb,
  -- entityName of the companyfacts document (null until one is loaded).
  facts_entity_name    text,
  updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX companies_name_prefix ON companies (name_lower text_pattern_ops);

-- Ticker symbols: company_tickers.json (position = its order, which SEC sorts by market value) plus
-- the tickers a submissions document lists.
CREATE TABLE tickers (
  ticker    text PRIMARY KEY,
  cik       bigint NOT NULL REFERENCES companies ON DELETE CASCADE,
  position  int NOT NULL
);
CREATE INDEX tickers_cik ON tickers (cik, position);

-- One row per filing of a submissions document ("recent" or an older page named in filings.files).
-- row holds every column of the source by its SEC name, so new SEC columns survive a round trip.
CREATE TABLE filings (
  cik               bigint NOT NULL REFERENCES companies ON DELETE CASCADE,
  source            text NOT NULL,
  position          int NOT NULL,
  accession_number  text NOT NULL,
  form              text NOT NULL,
  filing_date       date NOT NULL,
  row               jsonb NOT NULL,
  PRIMARY KEY (cik, source, position)
);
CREATE INDEX filings_by_date ON filings (cik, filing_date DESC, accession_number DESC);
CREATE INDEX filings_by_form ON filings (cik, form, filing_date DESC);

CREATE TABLE concepts (
  id        serial PRIMARY KEY,
  taxonomy  text NOT NULL,
  tag       text NOT NULL,
  UNIQUE (taxonomy, tag)
);

-- A concept as one company's companyfacts document has it (labels can differ between companies).
CREATE TABLE company_concepts (
  cik          bigint NOT NULL REFERENCES companies ON DELETE CASCADE,
  concept_id   int NOT NULL REFERENCES concepts,
  label        text,
  description  text,
  position     int NOT NULL,
  PRIMARY KEY (cik, concept_id)
);

-- Facts as SEC publishes them: repeated once per filing that reports them. val is numeric: values
-- exceed 2^31 and can be fractional (EPS). fy/fp describe the filing and can be null.
CREATE TABLE facts (
  cik            bigint NOT NULL,
  concept_id     int NOT NULL,
  unit           text NOT NULL,
  unit_position  int NOT NULL,
  position       int NOT NULL,
  start_date     date,
  end_date       date NOT NULL,
  val            numeric NOT NULL,
  accn           text NOT NULL,
  fy             int,
  fp             text,
  form           text NOT NULL,
  filed          date NOT NULL,
  frame          text,
  FOREIGN KEY (cik, concept_id) REFERENCES company_concepts ON DELETE CASCADE
);
CREATE INDEX facts_series ON facts (cik, concept_id, unit_position, position);
CREATE INDEX facts_frames ON facts (concept_id, unit, frame) WHERE frame IS NOT NULL;
