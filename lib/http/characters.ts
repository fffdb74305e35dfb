// Transitional: the character tables live in lib/http-common/characters.ts, neutral ground that lib/http/ and
// lib/websocket/ both import. This file only keeps lib/websocket/'s existing imports working until they point
// there (after the ws-core branch is merged); then it is deleted. Nothing new should import it.
export { FIELD_VALUE_CHARACTER, HEX_VALUE, isSafeFieldValue, isToken, TARGET_CHARACTER, TOKEN_CHARACTER } from '../http-common/characters.ts';
