// Schema 5: tables saved by query --save-as.
// Reserved; filled in by the feature that needs it. Until then it changes nothing.
export default ''
