package mergelink

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refData is what decodeData must agree with: json.Unmarshal into a struct
// of the members the SDK reads.
type refData struct {
	AccountToken  string                     `json:"account_token"`
	IsRelink      bool                       `json:"is_relink"`
	IsInitialSync bool                       `json:"is_initial_sync"`
	SyncStatus    map[string]json.RawMessage `json:"sync_status"`
}

// checkDecodeData decodes data both ways and fails when they differ, in
// the values or in the error's reason. It returns decodeData's result.
func checkDecodeData(t *testing.T, data []byte) (refData, error) {
	t.Helper()
	var want refData
	wantErr := json.Unmarshal(data, &want)
	var got refData
	err := decodeData(data, []dataField{
		{name: "account_token", to: &got.AccountToken},
		{name: "is_relink", to: &got.IsRelink},
		{name: "is_initial_sync", to: &got.IsInitialSync},
		{name: "sync_status", to: &got.SyncStatus},
	})
	if wantErr != nil {
		require.Error(t, err, "json.Unmarshal: %v", wantErr)
		assert.Equal(t, jsonReason(wantErr), jsonReason(err))
		return got, err
	}
	require.NoError(t, err)
	assert.Equal(t, want, got)
	return got, nil
}

// decodeData reads data's members in one light pass; these cases are the
// ways that could go wrong next to a full decode.
func TestDecodeDataAgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, data string
		token      string
		relink     bool
		reason     string
	}{
		{name: "empty", data: `{}`},
		{name: "plain", data: `{"account_token":"tok-1","is_relink":true}`, token: "tok-1", relink: true},
		{name: "white space", data: " {\n\t\"account_token\" :\r\"tok-2\" , \"is_relink\" : true\n} ", token: "tok-2", relink: true},
		{name: "later member wins", data: `{"account_token":"a","account_token":"b"}`, token: "b"},
		{name: "null keeps the value", data: `{"account_token":"a","account_token":null,"is_relink":true,"is_relink":null}`, token: "a", relink: true},
		{name: "any case", data: `{"ACCOUNT_Token":"upper","Is_Relink":true}`, token: "upper", relink: true},
		{name: "Kelvin sign folds to k", data: `{"account_to` + "\u212a" + `en":"kelvin"}`, token: "kelvin"},
		{name: "escaped key", data: `{"account\u005ftoken":"escaped","is_rel\u0069nk":true}`, token: "escaped", relink: true},
		{name: "escaped quote in a key", data: `{"\"account_token":"no","account_token\"":"no"}`},
		{name: "nested members are not read", data: `{"x":{"account_token":"no","is_relink":true},"account_token":"yes"}`, token: "yes"},
		{name: "brackets and quotes in strings", data: `{"s":"}\"{,:[","a":["]",{"b":"\\"}],"account_token":"t\"}"}`, token: `t"}`},
		{name: "numbers and literals", data: `{"n":-1.5e+10,"t":true,"f":false,"z":null,"e":[],"o":{},"account_token":"n"}`, token: "n"},
		{name: "literal last", data: `{"account_token":"x","is_relink":true}`, token: "x", relink: true},
		{name: "bad surrogate", data: `{"account_token":"\ud800"}`, token: "\ufffd"},
		{name: "invalid UTF-8 in a key", data: "{\"account\xfftoken\":\"no\"}"},
		{name: "token not a string", data: `{"account_token":12345678}`, reason: "field account_token must be a string, not JSON number"},
		{name: "first wrong member is named", data: `{"is_relink":"yes","account_token":5}`, reason: "field is_relink must be a boolean, not JSON string"},
		{name: "sync_status not an object", data: `{"sync_status":[]}`, reason: "field sync_status must be an object, not JSON array"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := checkDecodeData(t, []byte(tc.data))
			if tc.reason != "" {
				assert.Equal(t, tc.reason, jsonReason(err))
				return
			}
			assert.Equal(t, tc.token, got.AccountToken)
			assert.Equal(t, tc.relink, got.IsRelink)
		})
	}
}

func TestDecodeDataSyncStatus(t *testing.T) {
	t.Parallel()
	got, _ := checkDecodeData(t, []byte(`{"sync_status":{"a":1},"SYNC_STATUS":{"b":[2]},"is_initial_sync":true}`))
	assert.Equal(t, map[string]json.RawMessage{"a": json.RawMessage("1"), "b": json.RawMessage("[2]")}, got.SyncStatus, "members merge, as into a map")
	assert.True(t, got.IsInitialSync)
	got, _ = checkDecodeData(t, []byte(`{"sync_status":{"a":1},"sync_status":null}`))
	assert.Nil(t, got.SyncStatus, "null clears a map")
}

// FuzzDecodeData checks that, on every valid JSON object, decodeData finds
// the values json.Unmarshal finds, or fails with the same reason, and that
// on anything else it does not panic. Seeds are in
// testdata/fuzz/FuzzDecodeData.
func FuzzDecodeData(f *testing.F) {
	f.Add([]byte(`{"account_token":"tok","is_relink":true,"x":[{"y":"]}"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) || !isJSONObject(data) {
			var sink refData
			_ = decodeData(data, []dataField{{name: "account_token", to: &sink.AccountToken}})
			return
		}
		checkDecodeData(t, data)
	})
}
