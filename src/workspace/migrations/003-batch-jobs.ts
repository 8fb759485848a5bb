// Schema 3: batch prediction jobs, their inputs and outputs, and inputs already processed per model version (predict-batch).
// Reserved; filled in by the feature that needs it. Until then it changes nothing.
export default ''
