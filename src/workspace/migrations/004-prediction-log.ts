// Schema 4: requests logged by the prediction server (serve --log-predictions).
// Reserved; filled in by the feature that needs it. Until then it changes nothing.
export default ''
