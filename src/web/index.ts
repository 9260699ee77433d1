export { escapeHtml, html, SafeHtml } from './html.ts';
export { STYLESHEET_PATH, stylesheet } from './layout.ts';
export {
  type ConsentPageInput,
  renderConsentPage,
  renderContinueToClientPage,
  renderDeviceCodePage,
  renderDeviceConfirmPage,
  renderDeviceDonePage,
  renderOauthErrorPage,
} from './oauth-pages.ts';
export {
  type LoginPageInput,
  renderContinueToSsoPage,
  renderErrorPage,
  renderLoginPage,
  renderSetupPage,
  renderSignedOutPage,
  renderSsoTestReport,
  type SetupPageInput,
} from './pages.ts';
