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
