// Opens Swagger UI, runs "POST /api/v1/predictions" with its example body and checks the live answer.
// Usage: node swagger-predict.mjs BASE_URL SCREENSHOT.png
import { chromium } from "playwright-core";

const [base, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
  await page.goto(`${base}/swagger/index.html`);
  const operation = page.locator("#operations-Predictions-Predict");
  await operation.locator(".opblock-summary").click();
  // Try-it-out is on by default in this service's Swagger UI; click it only when the button is there.
  const tryIt = operation.getByRole("button", { name: "Try it out" });
  if (await tryIt.isVisible()) await tryIt.click();
  const [response] = await Promise.all([
    page.waitForResponse(r => new URL(r.url()).pathname.replace(/\/$/, "") === "/api/v1/predictions" && r.request().method() === "POST"),
    operation.getByRole("button", { name: "Execute" }).click(),
  ]);
  const body = await response.json();
  if (response.status() !== 200 || !Array.isArray(body.predictions) || body.predictions.length === 0) {
    throw new Error(`Expected 200 with predictions, got ${response.status()}: ${JSON.stringify(body)}`);
  }
  const shown = operation.locator(".live-responses-table tbody .response-col_status").first();
  await shown.waitFor();
  const status = (await shown.innerText()).trim();
  if (!status.startsWith("200")) throw new Error(`Swagger UI shows status ${status}`);
  await operation.locator(".live-responses-table").scrollIntoViewIfNeeded();
  await page.screenshot({ path: screenshot, fullPage: false });
  console.log(`Swagger UI executed a prediction: HTTP ${response.status()}, predictions ${JSON.stringify(body.predictions)}`);
} finally {
  await browser.close();
}
