// Kindred front-end entry point. Loaded on every page with
//   <script type="module" src="/assets/app/kindred.js"></script>
// No inline scripts anywhere (CSP), so this file does the job of the inline
// snippet in GOV.UK Frontend's template.njk: add `js-enabled` and
// `govuk-frontend-supported` to <body> before initialising components.
// A browser that runs a module script supports ES modules, which is what
// `govuk-frontend-supported` means, so both classes are always added here.
import { initAll } from '/assets/govuk/govuk-frontend.min.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported')

initAll()

// An import running in the background (/imports/{id}): ask for its progress
// every two seconds and show it in place (announced politely to screen
// readers), then load the finished summary once. Without JavaScript the
// page offers a link to refresh it by hand.
const progress = document.querySelector('[data-import-progress]')
if (progress) {
  const url = progress.getAttribute('data-import-progress')
  const text = progress.querySelector('[data-progress-text]')
  const bar = progress.querySelector('progress')
  const poll = async () => {
    try {
      const res = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      if (res.ok) {
        const p = await res.json()
        if (!p.running) {
          window.location.reload()
          return
        }
        const percent = p.total ? Math.floor((p.done * 100) / p.total) : 100
        if (text) text.textContent = `Importing: ${p.done} of ${p.total} rows (${percent}%).`
        if (bar) bar.value = percent
      }
    } catch (e) {
      // A failed poll is tried again on the next tick.
    }
    setTimeout(poll, 2000)
  }
  setTimeout(poll, 2000)
}
